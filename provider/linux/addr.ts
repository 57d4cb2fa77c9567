/**
 * Addresses of a link, as `ip -batch` lines (see `linkEndLines` in core/linkend.ts, which puts
 * them with the link's other settings into one `ipBatch`).
 */

/**
 * Lines that take a link's addresses from `have` to exactly `want` (both in the kernel's canonical form):
 * `address delete CIDR dev NAME` for the extra ones, then `address add CIDR dev NAME [nodad]` for the
 * missing ones. IPv6 addresses get `nodad` unless `dad`: usable at once, not `tentative` for the
 * ~2 s of duplicate address detection (as Docker adds container addresses).
 */
export function addrLines(dev: string, have: readonly string[], want: readonly string[], dad = false): string[] {
    return [
        ...have.filter((a) => !want.includes(a)).map((a) => `address delete ${a} dev ${dev}`),
        ...want.filter((a) => !have.includes(a)).map((a) => `address add ${a} dev ${dev}${!dad && a.includes(":") ? " nodad" : ""}`),
    ];
}
