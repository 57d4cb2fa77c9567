import { isIPv4, isIPv6 } from "net";

/** An IP address or prefix, parsed: family, the address as a number, and the prefix length. */
export interface Prefix {
    family: 4 | 6;
    value: bigint;
    length: number;
}

const BITS = { 4: 32, 6: 128 } as const;

/** The family of an address ("10.0.0.1" → 4, "fd00::1" → 6), or undefined when it is not one. */
export function addressFamily(address: string): 4 | 6 | undefined {
    if (isIPv4(address)) return 4;
    if (isIPv6(address) && !address.includes("%")) return 6;
    return undefined;
}

/** True for a multicast address (224.0.0.0/4, ff00::/8). */
export function isMulticast(address: string): boolean {
    const p = parsePrefix(address);
    return !!p && (p.family === 4 ? p.value >> 28n === BigInt(0xe) : p.value >> 120n === BigInt(0xff));
}

/** Parses "A/N" (or a bare address, taken as a host prefix); undefined when malformed or out of range. */
export function parsePrefix(text: string): Prefix | undefined {
    const [address, length, ...rest] = text.split("/");
    const family = addressFamily(address);
    if (!family || rest.length > 0) return undefined;
    const bits = BITS[family];
    let len: number = bits;
    if (length !== undefined) {
        if (!/^\d{1,3}$/.test(length)) return undefined;
        len = Number(length);
        if (len > bits) return undefined;
    }
    return { family, value: addressToBigInt(address, family), length: len };
}

/**
 * Why `text` is not an address (or, with `withLength`, an address with a prefix length), in words
 * that name the part at fault ("octet 256 is out of range (0–255)"); undefined when it is fine.
 */
export function addressProblem(text: string, withLength: boolean): string | undefined {
    const [address, length, ...rest] = text.split("/");
    if (rest.length > 0) return `"${text}" has more than one '/'`;
    if (withLength && length === undefined) return `"${text}" has no prefix length: add one, e.g. ${address}/24 (IPv4) or ${address}/64 (IPv6)`;
    if (!withLength && length !== undefined) return `"${text}" must be a single address, without a prefix length`;
    const family = addressFamily(address);
    if (!family) {
        const octets = address.split(".");
        if (/^[0-9.]+$/.test(address)) {
            if (octets.length !== 4 || octets.some((o) => o === "")) return `"${address}" is not an IPv4 address: it needs 4 octets separated by dots`;
            const big = octets.find((o) => Number(o) > 255);
            if (big !== undefined) return `octet ${big} of "${address}" is out of range (0–255)`;
            return `"${address}" is not an IPv4 address (no leading zeros in an octet)`;
        }
        if (address.includes("%")) return `"${address}": a zone index (%…) is not allowed`;
        return `"${address}" is not an IPv4 or IPv6 address`;
    }
    if (length !== undefined) {
        const bits = BITS[family];
        if (!/^\d{1,3}$/.test(length) || Number(length) > bits) return `prefix length /${length} is out of range: IPv${family} allows /0 to /${bits}`;
    }
    return undefined;
}

function addressToBigInt(address: string, family: 4 | 6): bigint {
    if (family === 4) {
        return address.split(".").reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
    }
    let [head, tail] = address.includes("::") ? address.split("::") : [address, undefined];
    const parse = (s: string | undefined) => (s ? s.split(":") : []);
    let headParts = parse(head);
    let tailParts = parse(tail);
    const v4tail = (parts: string[]) => {
        const last = parts[parts.length - 1];
        if (last && last.includes(".")) {
            const n = addressToBigInt(last, 4);
            parts.splice(parts.length - 1, 1, (n >> 16n).toString(16), (n & 0xffffn).toString(16));
        }
    };
    if (tail === undefined) v4tail(headParts);
    else v4tail(tailParts);
    const missing = 8 - headParts.length - tailParts.length;
    const groups = [...headParts, ...Array(tail === undefined ? 0 : missing).fill("0"), ...tailParts];
    return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
}

/** Formats a number of the given family as an address ("10.0.0.1", "fd00::1"). */
export function formatAddress(value: bigint, family: 4 | 6): string {
    if (family === 4) {
        return [24n, 16n, 8n, 0n].map((s) => ((value >> s) & 0xffn).toString()).join(".");
    }
    const groups = Array.from({ length: 8 }, (_, i) => Number((value >> BigInt(112 - 16 * i)) & 0xffffn));
    // RFC 5952: compress the longest run (length ≥ 2) of zero groups.
    let best = -1, bestLen = 0;
    for (let i = 0; i < 8; ) {
        let j = i;
        while (j < 8 && groups[j] === 0) j++;
        if (j - i > bestLen && j - i >= 2) [best, bestLen] = [i, j - i];
        i = j === i ? i + 1 : j;
    }
    const hex = groups.map((g) => g.toString(16));
    if (best < 0) return hex.join(":");
    return `${hex.slice(0, best).join(":")}::${hex.slice(best + bestLen).join(":")}`;
}

/** The netmask bits of a prefix length. */
function maskOf(family: 4 | 6, length: number): bigint {
    const bits = BigInt(BITS[family]);
    return ((1n << bits) - 1n) ^ ((1n << (bits - BigInt(length))) - 1n);
}

/** True when the prefix has bits set beyond its length ("10.1.1.1/16"). */
export function hasHostBits(p: Prefix): boolean {
    return (p.value & ~maskOf(p.family, p.length)) !== 0n;
}

/** The network of a prefix, as text ("10.1.1.1/16" → "10.1.0.0/16"). */
export function networkOf(p: Prefix): string {
    return `${formatAddress(p.value & maskOf(p.family, p.length), p.family)}/${p.length}`;
}

/** The canonical text of an address/prefix as the kernel prints it ("FD00:0::1/64" → "fd00::1/64"). */
export function canonicalPrefix(text: string): string {
    const p = parsePrefix(text);
    if (!p) return text;
    return text.includes("/") ? `${formatAddress(p.value, p.family)}/${p.length}` : formatAddress(p.value, p.family);
}

/** The n-th address of a network (0 = the network address itself). */
export function nthAddress(network: Prefix, n: bigint): string {
    const base = network.value & maskOf(network.family, network.length);
    return formatAddress(base + n, network.family);
}

/** How many addresses a prefix spans. */
export function prefixSize(p: Prefix): bigint {
    return 1n << BigInt(BITS[p.family] - p.length);
}
