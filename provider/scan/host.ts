/**
 * \`pulumi-netns scan\` reads a host: the root namespace and every named one, with the reads
 * \`pulumi refresh\` runs and nothing that writes, into a {@link Topology}.
 */
import { inNamespace } from "../core/diff";
import { OWNER_PREFIX } from "../core/owner";
import { stripUndefined } from "../core/schema";
import { parseHosts, parseResolvConf, readEtcFile } from "../linux/etc";
import { getFloodRemotes } from "../linux/fdb";
import { saveTables } from "../linux/iptables";
import { getLinks, Link, MACVLAN_MODES, macvlanParent, VxlanSpec, vxlanSpecOf } from "../linux/link";
import { listNetns, netnsIdNames } from "../linux/netns";
import { defaultMetric, listRoutes, ROUTE_PROTO } from "../linux/route";
import { getSysctl } from "../linux/sysctl";
import type { Target } from "../linux/target";
import { VxlanSchema } from "../resources/vxlan";
import { modelTables } from "./rules";
import { Topology } from "./topology";

/** What {@link scanHost} reads as if it carried no pulumi-netns marker. */
export interface ScanOptions {
    /**
     * An owner token (import's: the resource being imported): a link whose alias is this token, a rule
     * whose comment is it (read without that comment) and a namespace's /etc file written under it are
     * read as unmarked; and every route of `proto 250` as a `static` one, since a route carries no token
     * (see importInputs, import.ts). Objects of any other token stay out. Unset (`pulumi-netns scan`): none.
     */
    owner?: string;
}

/** Reads the host behind `t`: the root namespace and every named namespace (or those of `only`). Runs nothing that writes. */
export async function scanHost(t: Target, only?: string[], opts: ScanOptions = {}): Promise<Topology> {
    const names = (await listNetns(t)).filter((n) => !only || only.includes(n)).sort();
    const topo: Topology = { namespaces: [], bridges: [], veths: [], macvlans: [], vxlans: [], routes: [], masquerades: [], forwards: [], portForwards: [], forwarding: [], chains: [], rules: [], policies: [], unmodelled: [] };
    const all = [undefined, ...names];
    const scanned = await Promise.all(all.map(async (ns) => ({ ns, links: await getLinks(t, ns), ids: await netnsIdNames(t, ns) })));
    const marked = (l: Link) => l.alias?.startsWith(OWNER_PREFIX) && l.alias !== opts.owner;

    // Namespaces, with lo and their /etc files.
    for (const { ns, links } of scanned) {
        if (ns === undefined) continue;
        const [resolv, hosts] = await Promise.all([readEtcFile(t, ns, "resolv.conf"), readEtcFile(t, ns, "hosts")]);
        const ours = (f: typeof resolv) => f?.owner !== undefined && f.owner !== opts.owner;
        if (ours(resolv) || ours(hosts)) topo.unmodelled.push(`/etc/netns/${ns}: files already written by pulumi-netns (${resolv?.owner ?? hosts?.owner}); left out`);
        topo.namespaces.push({
            name: ns,
            loopbackUp: links.find((l) => l.name === "lo")?.up ?? false,
            dns: resolv && !ours(resolv) ? parseResolvConf(resolv.text) : undefined,
            hosts: hosts && !ours(hosts) ? parseHosts(hosts.text, {}) : undefined,
            links,
        });
    }

    // Links: bridges, veth pairs (both ends found across namespaces), the rest as comments.
    const key = (ns: string | undefined, ifindex: number) => `${ns ?? ""}/${ifindex}`;
    const byKey = new Map(scanned.flatMap(({ ns, links }) => links.map((l) => [key(ns, l.ifindex), { ns, link: l }] as const)));
    const paired = new Set<string>();
    for (const { ns, links, ids } of scanned) {
        for (const l of links) {
            const here = key(ns, l.ifindex);
            if (l.name === "lo" || paired.has(here)) continue;
            if (marked(l)) {
                topo.unmodelled.push(`link ${l.name} in ${inNamespace(ns)}: already managed by pulumi-netns (${l.alias}); left out`);
                continue;
            }
            if (l.kind === "bridge") {
                topo.bridges.push({ netns: ns, link: l });
                continue;
            }
            if (l.kind === "veth") {
                // The other end: by name in the same namespace, else by ifindex in the namespace its nsid names here. The root
                // namespace has no name: a root end is found from the root (scanned first), so an end still unpaired here that
                // points to a namespace without a name has its peer outside every named one (a container's, say).
                const peerNs = l.peer?.netnsid === undefined ? ns : ids.get(l.peer.netnsid);
                const peer = l.peer?.netnsid === undefined ? links.find((x) => x.name === l.peer?.name) : peerNs === undefined ? undefined : byKey.get(key(peerNs, l.peer.ifindex ?? -1))?.link;
                if (!peer || (peerNs === ns && peer.peer?.name !== l.name)) {
                    topo.unmodelled.push(`veth ${l.name} in ${inNamespace(ns)}: its peer is in a namespace without a name (a container's?) or one not scanned; left out`);
                    continue;
                }
                if (marked(peer)) continue;
                paired.add(here).add(key(peerNs, peer.ifindex));
                topo.veths.push({ end: { netns: ns, link: l }, peer: { netns: peerNs, link: peer } });
                continue;
            }
            if (l.kind === "macvlan") {
                const parent = await macvlanParent(t, l, ns);
                if (parent === undefined) topo.unmodelled.push(`macvlan ${l.name} in ${inNamespace(ns)}: its parent is not a link of the root namespace (a Macvlan's must be); left out`);
                else if (!(MACVLAN_MODES as readonly unknown[]).includes(l.data?.mode)) topo.unmodelled.push(`macvlan ${l.name} in ${inNamespace(ns)}: mode ${String(l.data?.mode)}, which a Macvlan does not make; left out`);
                else topo.macvlans.push({ netns: ns, link: l, parent });
                continue;
            }
            if (l.kind === "vxlan") {
                const spec = vxlanSpecOf(l)!;
                // Without a peer of its own, its peers are its flood list (as a Vxlan's `remotes` makes it); none: not a tunnel to anywhere.
                const flood = spec.remote === undefined && spec.group === undefined ? await getFloodRemotes(t, l.name, ns) : undefined;
                const remotes = flood?.length ? flood : undefined;
                const why = vxlanProblem(spec, remotes);
                if (why) topo.unmodelled.push(`vxlan ${l.name} in ${inNamespace(ns)}: ${why}; left out`);
                else topo.vxlans.push({ netns: ns, link: l, spec, ...(remotes ? { remotes } : {}) });
                continue;
            }
            topo.unmodelled.push(`link ${l.name} (${l.kind ?? "device"}) in ${inNamespace(ns)}: no resource models this kind; left out`);
        }
    }
    // A bridge with a port no resource declares stays out (its delete would detach that port), with the port noted.
    const portKeys = new Set([
        ...topo.veths.flatMap((v) => [key(v.end.netns, v.end.link.ifindex), key(v.peer.netns, v.peer.link.ifindex)]),
        ...topo.vxlans.map((v) => key(v.netns, v.link.ifindex)),
    ]);
    for (const { ns, links } of scanned) {
        for (const l of links) {
            if (!l.master || portKeys.has(key(ns, l.ifindex)) || marked(l)) continue;
            topo.unmodelled.push(`bridge ${l.master} in ${inNamespace(ns)} has port ${l.name} (${l.kind ?? "device"}), which no resource declares: the bridge is left out too (deleting it would detach the port)`);
            topo.bridges = topo.bridges.filter((b) => !(b.netns === ns && b.link.name === l.master));
        }
    }

    // Under an import (opts.owner), a link that another resource already holds (it carries a pulumi-netns token) is declared
    // by that resource: what lives on it (a route through it, a vxlan on it as a bridge) can be imported too.
    const held = (ns: string | undefined, name: string) =>
        opts.owner !== undefined && !!scanned.find((x) => x.ns === ns)?.links.some((l) => l.name === name && l.alias?.startsWith(OWNER_PREFIX));

    // A vxlan on a bridge left out goes too (its master would be undeclared).
    for (const v of topo.vxlans.filter((x) => x.link.master && !topo.bridges.some((b) => b.netns === x.netns && b.link.name === x.link.master) && !held(x.netns, x.link.master))) {
        topo.unmodelled.push(`vxlan ${v.link.name} in ${inNamespace(v.netns)}: its bridge ${v.link.master} is left out; left out too`);
        topo.vxlans = topo.vxlans.filter((x) => x !== v);
    }

    // Routes a person or a script added (not the kernel's own, not ours), in main tables.
    const declared = (ns: string | undefined, name: string) => held(ns, name) ||
        [...topo.bridges, ...topo.macvlans, ...topo.vxlans].some((b) => b.netns === ns && b.link.name === name) || topo.veths.some((v) => [v.end, v.peer].some((e) => e.netns === ns && e.link.name === name));
    for (const ns of all) {
        for (const family of [4, 6] as const) {
            for (const r of await listRoutes(t, family, ns)) {
                if (r.protocol === "kernel" || r.protocol === "ra" || r.type !== undefined || /^(fe80:|ff00:|ff02:)/.test(r.destination)) continue;
                if (r.protocol === String(ROUTE_PROTO) && opts.owner === undefined) {
                    topo.unmodelled.push(`route ${r.destination} in ${inNamespace(ns)}: already managed by pulumi-netns (proto ${ROUTE_PROTO}); left out`);
                    continue;
                }
                // A route another daemon keeps (a DHCP client, router advertisements, a routing daemon), or one through a link this
                // program does not declare (the host's uplink): adopting it would hand its delete to the stack. Left out.
                if (!["boot", "static", ...(opts.owner === undefined ? [] : [String(ROUTE_PROTO)])].includes(r.protocol)) {
                    topo.unmodelled.push(`route ${r.destination} in ${inNamespace(ns)}: kept by ${r.protocol}; left out`);
                    continue;
                }
                if (r.device && !declared(ns, r.device)) {
                    topo.unmodelled.push(`route ${r.destination}${r.gateway ? ` via ${r.gateway}` : ""} dev ${r.device} in ${inNamespace(ns)}: ${r.device} is not declared here; left out`);
                    continue;
                }
                topo.routes.push({
                    netns: ns, family, destination: r.destination, gateway: r.gateway, device: r.device, source: r.source,
                    metric: r.metric === defaultMetric(family) ? undefined : r.metric,
                });
            }
        }
    }

    // Rules, chains and policies (rules.ts), from one iptables-save per family; forwarding.
    for (const ns of all) {
        for (const family of [4, 6] as const) modelTables(topo, await saveTables(t, family, ns), ns, family, opts.owner);
        const [ipv4, ipv6] = await Promise.all([getSysctl(t, "net.ipv4.ip_forward", ns), getSysctl(t, "net.ipv6.conf.all.forwarding", ns)]);
        if (ipv4 === "1" || ipv6 === "1") topo.forwarding.push({ netns: ns, ipv4: ipv4 === "1", ipv6: ipv6 === "1" });
    }
    return topo;
}

/** Why a scanned VXLAN (and its flood list) is not one a {@link Vxlan} declares (no remote, remotes nor group, a group without device…), or undefined. */
function vxlanProblem(spec: VxlanSpec, remotes: string[] | undefined): string | undefined {
    const r = VxlanSchema.safeParse({ name: "x", ...stripUndefined({ ...spec, remotes }), owner: `${OWNER_PREFIX}${"0".repeat(16)}` });
    return r.success ? undefined : `not a tunnel a Vxlan declares (${r.error.issues.map((i) => `${i.path.join(".") || "vxlan"}: ${i.message}`).join("; ")})`;
}
