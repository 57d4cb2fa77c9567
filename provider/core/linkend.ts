import { addrLines } from "../linux/addr";
import { getLink, Link, linkSetLine } from "../linux/link";
import { ipBatch } from "../linux/batch";
import { getRootQdisc, removeRateLimit, setRateLimit } from "../linux/qdisc";
import { rateBits } from "./schema";
import type { Target } from "../linux/target";
import { inNamespace } from "./diff";

/** What a resource declares for one link (a bridge, or one end of a veth pair). */
export interface LinkEnd {
    name: string;
    netns?: string;
    addresses: string[];
    master?: string;
    mtu?: number;
    up: boolean;
    /** Its MAC address, when declared (set at `link add`, changed in place after); undefined = the one it has. */
    mac?: string;
    /** Run duplicate address detection on new IPv6 addresses (and wait for it); false adds them `nodad`. */
    dad: boolean;
    /**
     * false: no IPv6 link-local address (`addrgenmode none`, and the ones it has deleted), so the link
     * sends no IPv6 on its own; true: the kernel's default back (`addrgenmode eui64`: one is made when
     * the link next comes up); undefined: left as it is.
     */
    linkLocal?: boolean;
    /** Egress rate limit ("20mbit"), and its burst ("32kb"); none when undefined. */
    rate?: string;
    burst?: string;
}

/**
 * The `ip -batch` lines that make a link match its declaration: IPv6 link-local generation (before
 * the link goes up: `addrgenmode none` keeps one from being made, and the ones it has are deleted),
 * alias (the ownership marker), mtu, master, up, then exactly the declared addresses. `current` is
 * the link as read (undefined for a link just created: no addresses yet). `master` undefined
 * detaches from any bridge when `detach`; `mtu` undefined leaves it; a declared `mac` the link does
 * not have is set. That is: `link set dev NAME addrgenmode none|eui64`, `address delete LL dev NAME`,
 * `link set dev NAME [address MAC] alias A [mtu M] [master BR | nomaster] up|down` and `address add|delete` lines.
 */
export function linkEndLines(end: LinkEnd, owner: string, current: Link | undefined, detach: boolean): string[] {
    const linkLocal = end.linkLocal === undefined ? [] : [
        linkSetLine(end.name, { addrgenmode: end.linkLocal ? "eui64" : "none" }),
        ...(end.linkLocal ? [] : (current?.linkLocalAddresses ?? []).map((a) => `address delete ${a} dev ${end.name}`)),
    ];
    return [
        ...linkLocal,
        linkSetLine(end.name, { address: end.mac !== undefined && current !== undefined && current.mac !== end.mac ? end.mac : undefined, alias: owner, mtu: end.mtu, master: end.master ?? (detach && current?.master ? null : undefined), up: end.up }),
        ...addrLines(end.name, current?.addresses ?? [], end.addresses, end.dad),
    ];
}

/** Makes a link match its declaration in one process. Equivalent to: `ip [-n NS] -batch -` reading {@link linkEndLines}. */
export async function applyLinkEnd(t: Target, end: LinkEnd, owner: string, current: Link | undefined, detach: boolean): Promise<void> {
    await ipBatch(t, end.netns, linkEndLines(end, owner, current, detach));
    await awaitDad(t, end);
}

/** The tbf handle of a resource's rate limits: a major number (1–fffe) derived from its owner token, which marks the qdisc as its. */
export function rateHandle(owner: string): string {
    return `${(1 + (parseInt(owner.slice(-4), 16) % 0xfffe)).toString(16)}:`;
}

/** The burst a rate limit gets: the declared one, else 10 ms at the rate, at least 32 kB. */
function burstOf(end: LinkEnd): string {
    return end.burst ?? `${Math.max(32768, Math.ceil(rateBits(end.rate!) / 8 / 100))}b`;
}

/**
 * Makes the link's egress rate limit match its declaration (see linux/qdisc.ts): sets, changes or
 * removes this resource's tbf. `fresh`: the link was just made (nothing to read). A root qdisc
 * another made (a handle other than the kernel's default 0: and ours) is never replaced: fails.
 */
export async function applyRate(t: Target, end: LinkEnd, owner: string, fresh: boolean): Promise<void> {
    if (fresh && end.rate === undefined) return;
    const handle = rateHandle(owner);
    const q = fresh ? undefined : await getRootQdisc(t, end.name, end.netns);
    const ours = q?.kind === "tbf" && q.handle === handle;
    if (end.rate === undefined) {
        if (ours) await removeRateLimit(t, end.name, end.netns, handle);
        return;
    }
    if (q && !ours && q.handle !== "0:") {
        throw new Error(
            `link "${end.name}" has a root qdisc pulumi-netns did not make (${q.kind}, handle ${q.handle}): a rate limit would replace it. ` +
                `Remove it first (tc${end.netns ? ` -n ${end.netns}` : ""} qdisc del dev ${end.name} root), or leave rate out`,
        );
    }
    if (ours && sameRate(q!.rateBytes, end.rate) && q!.burstBytes !== undefined) return;
    await setRateLimit(t, end.name, end.netns, handle, end.rate, burstOf(end));
}

/** True when a tbf's rate (bytes per second, as tc reports it) is the declared one (tc rounds it). */
function sameRate(rateBytes: number | undefined, rate: string): boolean {
    return rateBytes !== undefined && Math.abs(rateBytes * 8 - rateBits(rate)) <= rateBits(rate) * 0.01;
}

/** The link's rate limit in the declaration's terms: the declared rate while this resource's tbf has it, its rate otherwise, none when it is gone. */
export async function readRate(t: Target, end: LinkEnd, owner: string): Promise<string | undefined> {
    if (end.rate === undefined) return undefined;
    const q = await getRootQdisc(t, end.name, end.netns);
    if (!(q?.kind === "tbf" && q.handle === rateHandle(owner))) return undefined;
    return sameRate(q.rateBytes, end.rate) ? end.rate : `${(q.rateBytes ?? 0) * 8}bit`;
}

/** How long {@link awaitDad} waits: DAD takes about 1–2 s (a random delay of up to 1 s, then one probe and 1 s without an answer). */
export const DAD_TIMEOUT_MS = 10_000;

/**
 * With `dad`, waits until the link's declared IPv6 addresses have passed duplicate address detection
 * (no longer `tentative`), so they are usable when this returns; fails, removing them, on `dadfailed`
 * (another node on the link has the address). Returns at once without `dad`, without IPv6 addresses,
 * or while the link has no carrier (DAD starts only when it has: a bridge without ports, a veth whose
 * peer is down). Equivalent to polling `ip [-n NS] -json address show dev NAME` every 100 ms.
 */
export async function awaitDad(t: Target, end: LinkEnd, timeoutMs = DAD_TIMEOUT_MS): Promise<void> {
    if (!end.dad || !end.up || !end.addresses.some((a) => a.includes(":"))) return;
    const where = `link "${end.name}" in ${inNamespace(end.netns)}`;
    for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 100))) {
        const link = await getLink(t, end.name, end.netns);
        if (!link) return;
        const failed = link.dadFailed.filter((a) => end.addresses.includes(a));
        if (failed.length > 0) {
            await ipBatch(t, end.netns, failed.map((a) => `address delete ${a} dev ${end.name}`));
            throw new Error(
                `address ${failed.join(", ")} on ${where} failed duplicate address detection (dadfailed): another node on that link already uses it. ` +
                    `It was removed; choose another address`,
            );
        }
        if (!link.carrier || !link.tentative.some((a) => end.addresses.includes(a))) return;
        if (Date.now() > deadline) {
            throw new Error(`address ${link.tentative.join(", ")} on ${where} is still tentative (duplicate address detection) after ${timeoutMs / 1000} s`);
        }
    }
}

/**
 * What the kernel has for a declared link end, in the declaration's terms: the declared
 * order of addresses is kept when the set is the same, so a refresh without drift changes nothing.
 */
export function readLinkEnd(end: LinkEnd, link: Link): LinkEnd {
    const have = link.addresses;
    const sameSet = have.length === end.addresses.length && have.every((a) => end.addresses.includes(a));
    return {
        name: end.name,
        netns: end.netns,
        addresses: sameSet ? end.addresses : have,
        master: link.master,
        mtu: end.mtu === undefined ? undefined : link.mtu,
        up: link.up,
        dad: end.dad,
        linkLocal: end.linkLocal === false ? link.linkLocalAddresses.length > 0 : end.linkLocal,
        rate: end.rate,
        burst: end.burst,
    };
}
