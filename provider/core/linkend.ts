import { canonicalPrefix } from "./ip";
import { listAddrs, syncAddrs } from "../linux/addr";
import { Link, setLink } from "../linux/link";

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
 * Makes a link match its declaration: alias (ownership marker), mtu, master, up, then the
 * exact set of addresses. `master` undefined detaches from any bridge, `mtu` undefined leaves it.
 * Equivalent to: `ip link set dev NAME alias A [mtu M] master BR|nomaster up|down` and
 * `ip address add/delete` for the differences.
 */
export async function applyLinkEnd(end: LinkEnd, owner: string, detach: boolean): Promise<void> {
    await setLink(end.name, end.netns, {
        alias: owner,
        mtu: end.mtu,
        master: end.master ?? (detach ? null : undefined),
        up: end.up,
    });
    await syncAddrs(end.name, end.addresses, end.netns);
}

/**
 * What the kernel has for a declared link end, in the declaration's terms: the declared
 * order of addresses is kept when the set is the same, so a refresh without drift changes nothing.
 */
export async function readLinkEnd(end: LinkEnd, link: Link): Promise<LinkEnd> {
    const have = await listAddrs(end.name, end.netns);
    const declared = end.addresses.map(canonicalPrefix);
    const sameSet = have.length === declared.length && have.every((a) => declared.includes(a));
    return {
        name: end.name,
        netns: end.netns,
        addresses: sameSet ? end.addresses : have,
        master: link.master,
        mtu: end.mtu === undefined ? undefined : link.mtu,
        up: link.up,
    };
}
