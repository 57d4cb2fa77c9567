import { addrLines } from "../linux/addr";
import { Link, linkSetLine } from "../linux/link";
import { ipBatch } from "../linux/netns";
import type { Target } from "../linux/target";

/** What a resource declares for one link (a bridge, or one end of a veth pair). */
export interface LinkEnd {
    name: string;
    netns?: string;
    addresses: string[];
    master?: string;
    mtu?: number;
    up: boolean;
}

/**
 * The `ip -batch` lines that make a link match its declaration: alias (the ownership marker), mtu,
 * master, up, then exactly the declared addresses. `current` is the link as read (undefined for a
 * link just created: no addresses yet). `master` undefined detaches from any bridge when `detach`;
 * `mtu` undefined leaves it. That is: `link set dev NAME alias A [mtu M] [master BR | nomaster] up|down`
 * and `address add|delete` lines.
 */
export function linkEndLines(end: LinkEnd, owner: string, current: Link | undefined, detach: boolean): string[] {
    return [
        linkSetLine(end.name, { alias: owner, mtu: end.mtu, master: end.master ?? (detach && current?.master ? null : undefined), up: end.up }),
        ...addrLines(end.name, current?.addresses ?? [], end.addresses),
    ];
}

/** Makes a link match its declaration in one process. Equivalent to: `ip [-n NS] -batch -` reading {@link linkEndLines}. */
export async function applyLinkEnd(t: Target, end: LinkEnd, owner: string, current: Link | undefined, detach: boolean): Promise<void> {
    await ipBatch(t, end.netns, linkEndLines(end, owner, current, detach));
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
    };
}
