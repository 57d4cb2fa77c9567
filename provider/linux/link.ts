import { createHash } from "crypto";
import { CommandError, failedBatchLine } from "./exec";
import { ipIn, ipShow } from "./batch";
import { netnsIdNames } from "./netns";
import { runUnlessAbsent, type Target } from "./target";

/** A link as the kernel reports it (`ip -json -details address show`), with its addresses. */
export interface Link {
    name: string;
    ifindex: number;
    kind: string | undefined;
    mtu: number;
    up: boolean;
    mac: string;
    alias: string | undefined;
    master: string | undefined;
    /** "address/prefix" in the kernel's form, without the IPv6 link-local ones the kernel adds itself. */
    addresses: string[];
    /** Those of {@link addresses} still in duplicate address detection (IPv6 `tentative`). */
    tentative: string[];
    /** Those of {@link addresses} that failed duplicate address detection (IPv6 `dadfailed`). */
    dadFailed: string[];
    /** The link has carrier (`LOWER_UP`): DAD runs only then. */
    carrier: boolean;
    /** The IPv6 link-local addresses it has (left out of {@link addresses}). */
    linkLocalAddresses: string[];
    /** A veth's other end: its name when it is in the same namespace, else its ifindex there and the id this namespace knows that one by. */
    peer: { name?: string; ifindex?: number; netnsid?: number } | undefined;
    /** The kind's own settings (`linkinfo.info_data`: a VXLAN's id, a macvlan's mode…). */
    data: Record<string, unknown> | undefined;
}

/** stderr of `ip` when the device or the namespace is missing. */
const MISSING = /does not exist|Cannot find device|Cannot open network namespace|No such device/;

/**
 * Reads one link and its addresses in one call; undefined when the link, or the namespace it
 * would be in, does not exist. Equivalent to: `ip [-n NS] -json -details address show dev NAME`.
 */
export async function getLink(t: Target, name: string, netns?: string): Promise<Link | undefined> {
    const out = await ipShow(t, netns, ["-json", "-details", "address", "show", "dev", name], MISSING);
    if (out === undefined) return undefined;
    return toLink((JSON.parse(out) as any[])[0]);
}

/**
 * Every link of a namespace with its addresses; [] when the namespace does not exist.
 * Equivalent to: `ip [-n NS] -json -details address show`.
 */
export async function getLinks(t: Target, netns?: string): Promise<Link[]> {
    const out = await ipShow(t, netns, ["-json", "-details", "address", "show"], MISSING);
    return (JSON.parse(out || "[]") as any[]).map(toLink);
}

/** A link of `ip -json -details address show`. */
function toLink(j: any): Link {
    const isLinkLocal = (a: any) => a.family === "inet6" && a.scope === "link";
    const addrs = ((j.addr_info ?? []) as any[]).filter((a) => !isLinkLocal(a));
    const cidr = (a: any) => `${a.local}/${a.prefixlen}`;
    return {
        name: j.ifname,
        ifindex: j.ifindex,
        kind: j.linkinfo?.info_kind,
        mtu: j.mtu,
        up: Array.isArray(j.flags) && j.flags.includes("UP"),
        mac: j.address,
        alias: j.ifalias || undefined,
        master: j.master || undefined,
        addresses: addrs.map(cidr),
        tentative: addrs.filter((a) => a.tentative).map(cidr),
        dadFailed: addrs.filter((a) => a.dadfailed).map(cidr),
        carrier: Array.isArray(j.flags) && j.flags.includes("LOWER_UP"),
        linkLocalAddresses: ((j.addr_info ?? []) as any[]).filter(isLinkLocal).map(cidr),
        peer:
            j.link === undefined && j.link_index === undefined
                ? undefined
                : { name: typeof j.link === "string" ? j.link : undefined, ifindex: j.link_index, netnsid: j.link_netnsid },
        data: j.linkinfo?.info_data,
    };
}

/** {@link kernelHasIpv6}, by target, asked once each. */
const ipv6 = new WeakMap<Target, Promise<boolean>>();

/**
 * Whether the target's kernel has IPv6 (it was not booted with `ipv6.disable=1`): without it, a link
 * has no IPv6 settings to change. Asked once per target. Equivalent to: `stat /proc/sys/net/ipv6`.
 */
export function kernelHasIpv6(t: Target): Promise<boolean> {
    let has = ipv6.get(t);
    if (!has) ipv6.set(t, (has = t.stat("/proc/sys/net/ipv6").then((id) => id !== undefined)));
    return has;
}

/** A link as {@link listLinks} reports it. */
export interface LinkSummary {
    name: string;
    kind: string | undefined;
    alias: string | undefined;
    /** The other end of a veth (or the parent of a macvlan…) when it is in the same namespace. */
    peer: string | undefined;
}

/**
 * The links of a namespace: name, kind, alias and same-namespace peer only; [] when the namespace
 * does not exist. Equivalent to: `ip [-n NS] -json -details link show`.
 */
export async function listLinks(t: Target, netns?: string): Promise<LinkSummary[]> {
    const out = await ipShow(t, netns, ["-json", "-details", "link", "show"], MISSING);
    return (JSON.parse(out || "[]") as any[]).map((j) => ({
        name: j.ifname,
        kind: j.linkinfo?.info_kind,
        alias: j.ifalias || undefined,
        peer: j.link_netnsid === undefined && typeof j.link === "string" ? j.link : undefined,
    }));
}

/**
 * The `link add` line of a veth pair whose first end is made in the namespace the command runs in,
 * and whose peer is made directly in `peer.netns` (the root namespace has no name to give, so a
 * pair with an end there is made from there). For the first line of an `ipBatch` (batch.ts). Equivalent to:
 * `ip [-n NS] link add name NAME address MAC [mtu M] type veth peer name PEER address MAC [mtu M] [netns PEERNS]`.
 */
export function vethAddLine(end: { name: string; mac: string }, peer: { name: string; netns?: string; mac: string }, mtu?: number): string {
    const m = mtu === undefined ? [] : ["mtu", String(mtu)];
    return [
        "link", "add", "name", end.name, "address", end.mac, ...m,
        "type", "veth", "peer", "name", peer.name, "address", peer.mac, ...m, ...(peer.netns ? ["netns", peer.netns] : []),
    ].join(" ");
}

/**
 * The `link add` line of a bridge with a fixed MAC address (without one, a bridge takes the
 * lowest MAC of its ports and changes it as ports come and go), for the first line of an `ipBatch` (batch.ts).
 * Equivalent to: `ip [-n NS] link add name NAME address MAC [mtu M] type bridge`.
 */
export function bridgeAddLine(name: string, mac: string, mtu?: number): string {
    return ["link", "add", "name", name, "address", mac, ...(mtu === undefined ? [] : ["mtu", String(mtu)]), "type", "bridge"].join(" ");
}

/** A VXLAN tunnel's own settings (all fixed at creation). */
export interface VxlanSpec {
    vni: number;
    local?: string;
    remote?: string;
    group?: string;
    dstPort: number;
    device?: string;
}

/**
 * The `link add` line of a VXLAN device with a fixed MAC, for the first line of an `ipBatch`
 * (batch.ts) run in the namespace of its underlay. Equivalent to: `ip link add name NAME address MAC
 * [mtu M] type vxlan id VNI [local A] [remote B | group G] [dev DEV] dstport P`.
 */
export function vxlanAddLine(name: string, mac: string, v: VxlanSpec, mtu?: number): string {
    return [
        "link", "add", "name", name, "address", mac, ...(mtu === undefined ? [] : ["mtu", String(mtu)]),
        "type", "vxlan", "id", String(v.vni),
        ...(v.local ? ["local", v.local] : []), ...(v.remote ? ["remote", v.remote] : []), ...(v.group ? ["group", v.group] : []),
        ...(v.device ? ["dev", v.device] : []), "dstport", String(v.dstPort),
    ].join(" ");
}

/**
 * A VXLAN link's tunnel settings as the kernel reports them (`ip -json -details link show`:
 * `id`, `local`/`local6`, `remote`/`remote6`, `group`/`group6`, `port`, and `link`, the underlay
 * when it is in the same namespace); undefined for a link of another kind.
 */
export function vxlanSpecOf(l: Link): VxlanSpec | undefined {
    if (l.kind !== "vxlan" || !l.data) return undefined;
    const d = l.data as Record<string, string | number | undefined>;
    const str = (k: string) => (typeof d[k] === "string" ? (d[k] as string) : typeof d[`${k}6`] === "string" ? (d[`${k}6`] as string) : undefined);
    return { vni: Number(d.id), local: str("local"), remote: str("remote"), group: str("group"), dstPort: Number(d.port), device: typeof d.link === "string" ? d.link : undefined };
}

/**
 * The parent of a macvlan found in `netns` when that parent is a link of the root namespace: its
 * name; undefined when it is elsewhere (in the macvlan's own named namespace, or in another named
 * one). A parent in another namespace is known only by its ifindex and the id `netns` gives that
 * namespace: an id no named namespace holds is taken as the root's (read from there by ifindex).
 * Equivalent to: `ip -n NS -json netns list-id`, `ip -json -details address show`.
 */
export async function macvlanParent(t: Target, l: Link, netns?: string): Promise<string | undefined> {
    if (l.kind !== "macvlan" || !l.peer) return undefined;
    if (l.peer.netnsid === undefined) return netns === undefined ? l.peer.name : undefined;
    if (netns === undefined || l.peer.ifindex === undefined || (await netnsIdNames(t, netns)).has(l.peer.netnsid)) return undefined;
    return (await getLinks(t)).find((x) => x.ifindex === l.peer!.ifindex)?.name;
}

/** The modes of a macvlan (macvlan(4)): how its traffic meets that of the parent's other macvlans. */
export const MACVLAN_MODES = ["bridge", "private", "vepa", "passthru"] as const;
export type MacvlanMode = (typeof MACVLAN_MODES)[number];

/**
 * The `link add` line of a macvlan on `parent` (in the namespace the batch runs in), made directly in
 * `netns` when given, with a fixed MAC, for the first line of an `ipBatch` (batch.ts). Equivalent to:
 * `ip link add link PARENT name NAME address MAC [mtu M] [netns NS] type macvlan mode MODE`.
 */
export function macvlanAddLine(name: string, parent: string, mac: string, mode: MacvlanMode, netns?: string, mtu?: number): string {
    return [
        "link", "add", "link", parent, "name", name, "address", mac, ...(mtu === undefined ? [] : ["mtu", String(mtu)]),
        ...(netns ? ["netns", netns] : []), "type", "macvlan", "mode", mode,
    ].join(" ");
}

/**
 * True when an `ipBatch` (batch.ts) whose first line is a `link add` failed because the name is taken:
 * that line failed with `File exists`, so the batch changed nothing.
 */
export function linkTaken(err: unknown): boolean {
    return err instanceof CommandError && /File exists/.test(err.stderr) && failedBatchLine(err) === 1;
}

/**
 * True when the `link add` that starts a create's `ipBatch` is known to have run: the batch failed on a
 * later line (`Command failed -:N`, N > 1), so the link of that name is the one this batch made. A
 * failure on the first line, or without a line (the batch never ran), proves nothing.
 */
export function linkAddRan(err: unknown): boolean {
    return (failedBatchLine(err) ?? 0) > 1;
}

/** A locally administered unicast MAC address derived from `seed` (the same seed, the same MAC). */
export function stableMac(seed: string): string {
    const bytes = createHash("sha256").update(seed).digest().subarray(0, 6);
    bytes[0] = (bytes[0] & 0xfc) | 0x02;
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(":");
}

/** Deletes a link; one already gone (or whose namespace is gone) is success. Equivalent to: `ip [-n NS] link delete dev NAME`. */
export async function deleteLink(t: Target, name: string, netns?: string): Promise<void> {
    await runUnlessAbsent(t, [...ipIn(netns), "link", "delete", "dev", name], MISSING);
}

/**
 * Undoes a failed create: deletes the link only if it carries `mac`, the address create gave it. A MAC
 * derived from the resource's owner token proves the link is this resource's (never a link someone
 * else made); a MAC the resource declares does not (a script may have made a link with it), so its
 * caller calls this only when the link is known to be this call's (see {@link linkAddRan}).
 */
export async function deleteLinkWithMac(t: Target, name: string, netns: string | undefined, mac: string): Promise<void> {
    if ((await getLink(t, name, netns))?.mac === mac) await deleteLink(t, name, netns);
}

/** What {@link setLink} can change in one call; `master: null` detaches from a bridge. */
export interface LinkSettings {
    /** The link's MAC address (`address MAC`: the kernel changes it while the link is up, on veth, bridge, macvlan and vxlan alike). */
    address?: string;
    mtu?: number;
    master?: string | null;
    alias?: string;
    up?: boolean;
    /** IPv6 link-local address generation: `none`, or the kernel's default `eui64` (its own line, before the link goes up). */
    addrgenmode?: "none" | "eui64";
}

/**
 * Changes a link's settings in one command.
 * Equivalent to: `ip [-n NS] link set dev NAME [address MAC] [mtu M] [master BR | nomaster] [alias A] [addrgenmode M] [up | down]`.
 */
export async function setLink(t: Target, name: string, netns: string | undefined, s: LinkSettings): Promise<void> {
    await t.run([...ipIn(netns), ...linkSetArgs(name, s)]);
}

/** The `ip -batch` line of {@link setLink}: `link set dev NAME …`. */
export function linkSetLine(name: string, s: LinkSettings): string {
    return linkSetArgs(name, s).join(" ");
}

function linkSetArgs(name: string, s: LinkSettings): string[] {
    const args = ["link", "set", "dev", name];
    if (s.address !== undefined) args.push("address", s.address);
    if (s.mtu !== undefined) args.push("mtu", String(s.mtu));
    if (s.master !== undefined) args.push(...(s.master === null ? ["nomaster"] : ["master", s.master]));
    if (s.alias !== undefined) args.push("alias", s.alias);
    if (s.addrgenmode !== undefined) args.push("addrgenmode", s.addrgenmode);
    if (s.up !== undefined) args.push(s.up ? "up" : "down");
    return args;
}
