/**
 * `pulumi-netns scan`: reads what a host has (read-only: the same reads `pulumi refresh` runs) and
 * writes it as a Pulumi program of this package's resources, every one with `adopt: true`, or as a
 * Mermaid diagram. What no resource models (other link kinds, other rules, other tables) is listed
 * as comments, never as resources; objects that already carry a pulumi-netns marker belong to a
 * stack and are listed as such.
 */
import { parsePrefix } from "./core/ip";
import { OWNER_PREFIX } from "./core/owner";
import { parseHosts, parseResolvConf, readEtcFile, Resolver, type Hosts } from "./linux/etc";
import { getFloodRemotes } from "./linux/fdb";
import { Family, parseRuleLine, POLICY_CHAINS, saveTables, Table } from "./linux/iptables";
import { getLinks, Link, MACVLAN_MODES, macvlanParent, VxlanSpec, vxlanSpecOf } from "./linux/link";
import { listNetns, netnsIdNames } from "./linux/netns";
import { defaultMetric, listRoutes, ROUTE_PROTO } from "./linux/route";
import { getSysctl } from "./linux/sysctl";
import type { Target } from "./linux/target";
import { masqueradeRule } from "./resources/masquerade";
import { forwardRule } from "./resources/forward";
import { PortForwardArgs, portForwardRules } from "./resources/portforward";
import { IPTABLES_RULE_KEYS, IptablesRuleArgs, parseIptablesRule } from "./resources/iptables-rule";
import { VxlanArgs } from "./resources/vxlan";

/** A namespace as scanned; `undefined` name is the root namespace. */
export interface ScannedNetns {
    name: string | undefined;
    loopbackUp: boolean;
    dns?: Resolver;
    hosts?: Hosts;
    links: Link[];
}

export interface ScannedVeth {
    end: { netns?: string; link: Link };
    peer: { netns?: string; link: Link };
}

export interface ScannedRoute {
    netns?: string;
    family: Family;
    destination: string;
    gateway?: string;
    device?: string;
    metric?: number;
    source?: string;
}

export interface ScannedMasquerade {
    netns?: string;
    source: string;
    destination?: string;
    outInterface?: string;
    excludeOutInterface?: string;
}

export interface ScannedForward {
    netns?: string;
    family: Family;
    inInterface?: string;
    outInterface?: string;
    source?: string;
    destination?: string;
    established: boolean;
}

export interface ScannedMacvlan {
    netns?: string;
    link: Link;
    /** Its parent, a link of the root namespace. */
    parent: string;
}

export interface ScannedVxlan {
    netns?: string;
    link: Link;
    spec: VxlanSpec;
    /** Its flood list (the all-zeros fdb entries), for a device made without `remote` or `group`: a Vxlan's `remotes`. */
    remotes?: string[];
}

export interface ScannedPortForward {
    netns?: string;
    protocol: "tcp" | "udp";
    hostPort: number;
    hostAddress?: string;
    /** With its LAN's prefix length when the hairpin MASQUERADE was found too. */
    toAddress: string;
    toPort?: number;
}

/** A user-defined chain (an IptablesChain). */
export interface ScannedChain {
    netns?: string;
    family: Family;
    table: Table;
    name: string;
}

/** Any other rule an IptablesRule declares: its table and chain, and its other inputs as read back from the listing. */
export interface ScannedRule {
    netns?: string;
    family: Family;
    table: Table;
    chain: string;
    args: Record<string, unknown>;
}

/** What a host has, in this package's terms, and what it has that no resource models. */
export interface Topology {
    namespaces: ScannedNetns[];
    bridges: { netns?: string; link: Link }[];
    veths: ScannedVeth[];
    macvlans: ScannedMacvlan[];
    vxlans: ScannedVxlan[];
    routes: ScannedRoute[];
    masquerades: ScannedMasquerade[];
    forwards: ScannedForward[];
    portForwards: ScannedPortForward[];
    forwarding: { netns?: string; ipv4: boolean; ipv6: boolean }[];
    /** User-defined chains (an IptablesChain each), and the rules that no other resource declares (an IptablesRule each), in chain order. */
    chains: ScannedChain[];
    rules: ScannedRule[];
    /** Built-in chains whose policy is not ACCEPT (a ChainPolicy each). */
    policies: { netns?: string; family: Family; table: string; chain: string; policy: string }[];
    /** One line each: what was found and not modelled, and why. */
    unmodelled: string[];
}

const where = (ns: string | undefined) => (ns === undefined ? "the root namespace" : `namespace ${ns}`);

/** Reads the host behind `t`: the root namespace and every named namespace (or those of `only`). Runs nothing that writes. */
export async function scanHost(t: Target, only?: string[]): Promise<Topology> {
    const names = (await listNetns(t)).filter((n) => !only || only.includes(n)).sort();
    const topo: Topology = { namespaces: [], bridges: [], veths: [], macvlans: [], vxlans: [], routes: [], masquerades: [], forwards: [], portForwards: [], forwarding: [], chains: [], rules: [], policies: [], unmodelled: [] };
    const all = [undefined, ...names];
    const scanned = await Promise.all(all.map(async (ns) => ({ ns, links: await getLinks(t, ns), ids: await netnsIdNames(t, ns) })));
    const marked = (l: Link) => l.alias?.startsWith(OWNER_PREFIX);

    // Namespaces, with lo and their /etc files.
    for (const { ns, links } of scanned) {
        if (ns === undefined) continue;
        const [resolv, hosts] = await Promise.all([readEtcFile(t, ns, "resolv.conf"), readEtcFile(t, ns, "hosts")]);
        const ours = (f: typeof resolv) => f?.owner !== undefined;
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
                topo.unmodelled.push(`link ${l.name} in ${where(ns)}: already managed by pulumi-netns (${l.alias}); left out`);
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
                    topo.unmodelled.push(`veth ${l.name} in ${where(ns)}: its peer is in a namespace without a name (a container's?) or one not scanned; left out`);
                    continue;
                }
                if (marked(peer)) continue;
                paired.add(here).add(key(peerNs, peer.ifindex));
                topo.veths.push({ end: { netns: ns, link: l }, peer: { netns: peerNs, link: peer } });
                continue;
            }
            if (l.kind === "macvlan") {
                const parent = await macvlanParent(t, l, ns);
                if (parent === undefined) topo.unmodelled.push(`macvlan ${l.name} in ${where(ns)}: its parent is not a link of the root namespace (a Macvlan's must be); left out`);
                else if (!(MACVLAN_MODES as readonly unknown[]).includes(l.data?.mode)) topo.unmodelled.push(`macvlan ${l.name} in ${where(ns)}: mode ${String(l.data?.mode)}, which a Macvlan does not make; left out`);
                else topo.macvlans.push({ netns: ns, link: l, parent });
                continue;
            }
            if (l.kind === "vxlan") {
                const spec = vxlanSpecOf(l)!;
                // Without a peer of its own, its peers are its flood list (as a Vxlan's `remotes` makes it); none: not a tunnel to anywhere.
                const flood = spec.remote === undefined && spec.group === undefined ? await getFloodRemotes(t, l.name, ns) : undefined;
                const remotes = flood?.length ? flood : undefined;
                const why = vxlanProblem(spec, remotes);
                if (why) topo.unmodelled.push(`vxlan ${l.name} in ${where(ns)}: ${why}; left out`);
                else topo.vxlans.push({ netns: ns, link: l, spec, ...(remotes ? { remotes } : {}) });
                continue;
            }
            topo.unmodelled.push(`link ${l.name} (${l.kind ?? "device"}) in ${where(ns)}: no resource models this kind; left out`);
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
            topo.unmodelled.push(`bridge ${l.master} in ${where(ns)} has port ${l.name} (${l.kind ?? "device"}), which no resource declares: the bridge is left out too (deleting it would detach the port)`);
            topo.bridges = topo.bridges.filter((b) => !(b.netns === ns && b.link.name === l.master));
        }
    }

    // A vxlan on a bridge left out goes too (its master would be undeclared).
    for (const v of topo.vxlans.filter((x) => x.link.master && !topo.bridges.some((b) => b.netns === x.netns && b.link.name === x.link.master))) {
        topo.unmodelled.push(`vxlan ${v.link.name} in ${where(v.netns)}: its bridge ${v.link.master} is left out; left out too`);
        topo.vxlans = topo.vxlans.filter((x) => x !== v);
    }

    // Routes a person or a script added (not the kernel's own, not ours), in main tables.
    const declared = (ns: string | undefined, name: string) =>
        [...topo.bridges, ...topo.macvlans, ...topo.vxlans].some((b) => b.netns === ns && b.link.name === name) || topo.veths.some((v) => [v.end, v.peer].some((e) => e.netns === ns && e.link.name === name));
    for (const ns of all) {
        for (const family of [4, 6] as const) {
            for (const r of await listRoutes(t, family, ns)) {
                if (r.protocol === "kernel" || r.protocol === "ra" || r.type !== undefined || /^(fe80:|ff00:|ff02:)/.test(r.destination)) continue;
                if (r.protocol === String(ROUTE_PROTO)) {
                    topo.unmodelled.push(`route ${r.destination} in ${where(ns)}: already managed by pulumi-netns (proto ${ROUTE_PROTO}); left out`);
                    continue;
                }
                // A route another daemon keeps (a DHCP client, router advertisements, a routing daemon), or one through a link this
                // program does not declare (the host's uplink): adopting it would hand its delete to the stack. Left out.
                if (!["boot", "static"].includes(r.protocol)) {
                    topo.unmodelled.push(`route ${r.destination} in ${where(ns)}: kept by ${r.protocol}; left out`);
                    continue;
                }
                if (r.device && !declared(ns, r.device)) {
                    topo.unmodelled.push(`route ${r.destination}${r.gateway ? ` via ${r.gateway}` : ""} dev ${r.device} in ${where(ns)}: ${r.device} is not declared here; left out`);
                    continue;
                }
                topo.routes.push({
                    netns: ns, family, destination: r.destination, gateway: r.gateway, device: r.device, source: r.source,
                    metric: r.metric === defaultMetric(family) ? undefined : r.metric,
                });
            }
        }
    }

    // Rules: those of the shapes PortForward, MasqueradeRule and ForwardRule make as those, any other an IptablesRule
    // where one declares it; user-defined chains as IptablesChains; chain policies; the rest as comments.
    for (const ns of all) {
        for (const family of [4, 6] as const) {
            const tool = family === 6 ? "ip6tables" : "iptables";
            const tables = await saveTables(t, family, ns);
            const lines = (table: string, chain: string) => (tables.find((x) => x.table === table)?.rules ?? []).filter((l) => parseRuleLine(l)[1] === chain);
            const { forwards, taken } = findPortForwards({ PREROUTING: lines("nat", "PREROUTING"), OUTPUT: lines("nat", "OUTPUT"), POSTROUTING: lines("nat", "POSTROUTING") }, ns);
            topo.portForwards.push(...forwards);
            for (const { table, chains, rules } of tables) {
                const t_ = table === "filter" ? "" : `-t ${table} `;
                const userChains = chains.filter((c) => c.policy === "-").map((c) => c.chain);
                const note = (line: string, why: string) => notes.push(`${tool} rule in ${where(ns)}: ${t_}${line} (${why}); left out`);
                const notes: string[] = [];
                const found: [string, ScannedRule][] = [];
                // A user-defined chain is left out when another tool keeps it, or when a rule in it is: its delete would fail.
                const leftOut = new Map(userChains.filter((c) => FOREIGN_CHAIN.test(c)).map((c) => [c, "a chain another tool keeps (by its name)"]));
                for (const line of rules.filter((l) => !taken.has(l))) {
                    const [, chain, ...args] = parseRuleLine(line);
                    if (table === "nat" && chain === "POSTROUTING") {
                        const m = parseMasquerade(line, ns);
                        if (m) { topo.masquerades.push(m); continue; }
                    }
                    if (table === "filter" && chain === "FORWARD") {
                        const f = parseForward(line, ns, family);
                        if (f) { topo.forwards.push(f); continue; }
                    }
                    const r = leftOut.has(chain) ? `in chain ${chain}: ${leftOut.get(chain)}` : ruleProblem(args, table, chain, family);
                    if (typeof r === "object") {
                        found.push([line, { netns: ns, family, table: table as Table, chain, args: r.args }]);
                        continue;
                    }
                    note(line, r);
                    if (userChains.includes(chain) && !leftOut.has(chain)) leftOut.set(chain, `its rule ${line} is left out`);
                }
                for (const [line, r] of found) {
                    const out = [r.chain, String(r.args.jump)].find((c) => leftOut.has(c));
                    if (out) note(line, `chain ${out} is left out`);
                    else topo.rules.push(r);
                }
                for (const c of userChains) {
                    if (leftOut.has(c)) notes.unshift(`${tool} chain ${c} in ${where(ns)}${t_ ? ` (table ${table})` : ""}: ${leftOut.get(c)}; left out, with its rules`);
                    else topo.chains.push({ netns: ns, family, table: table as Table, name: c });
                }
                topo.unmodelled.push(...notes);
                // Built-in chains' policies other than ACCEPT (a firewall's `-P FORWARD DROP`).
                for (const c of chains) {
                    if (c.policy === "ACCEPT" || c.policy === "-") continue;
                    const modelled = ((POLICY_CHAINS as Record<string, readonly string[]>)[table] ?? []).includes(c.chain) && c.policy === "DROP";
                    if (modelled) topo.policies.push({ netns: ns, family, table, chain: c.chain, policy: c.policy });
                    else topo.unmodelled.push(`${tool} policy in ${where(ns)}: -t ${table} -P ${c.chain} ${c.policy}, which a ChainPolicy does not make; left out`);
                }
            }
        }
        const [ipv4, ipv6] = await Promise.all([getSysctl(t, "net.ipv4.ip_forward", ns), getSysctl(t, "net.ipv6.conf.all.forwarding", ns)]);
        if (ipv4 === "1" || ipv6 === "1") topo.forwarding.push({ netns: ns, ipv4: ipv4 === "1", ipv6: ipv6 === "1" });
    }
    return topo;
}

/** Flags and their values in a listed rule, when it holds only flags from `allowed` (and no comment). */
function flags(args: string[], allowed: string[]): Map<string, string> | undefined {
    const found = new Map<string, string>();
    for (let i = 0; i < args.length; i += 2) {
        const flag = args[i] === "!" ? `! ${args[++i]}` : args[i];
        if (!allowed.includes(flag) || args[i + 1] === undefined) return undefined;
        found.set(flag, args[i + 1]);
    }
    return found;
}

/** A listed `-A POSTROUTING …` line as a MasqueradeRule, if it is exactly the rule one would make. */
function parseMasquerade(line: string, netns: string | undefined): ScannedMasquerade | undefined {
    const [, , ...args] = parseRuleLine(line);
    const f = flags(args, ["-s", "-d", "-o", "! -o", "-j"]);
    if (!f || f.get("-j") !== "MASQUERADE" || !f.get("-s")) return undefined;
    const m: ScannedMasquerade = { netns, source: f.get("-s")!, destination: f.get("-d"), outInterface: f.get("-o"), excludeOutInterface: f.get("! -o") };
    return sameSpec(masqueradeRule({ ...m, owner: OWNER_PREFIX } as any).spec, args) ? m : undefined;
}

/** A listed `-A FORWARD …` line as a ForwardRule, if it is exactly the rule one would make. */
function parseForward(line: string, netns: string | undefined, family: Family): ScannedForward | undefined {
    const [, , ...args] = parseRuleLine(line);
    const established = args.join(" ").includes("-m conntrack --ctstate RELATED,ESTABLISHED");
    const rest = established ? args.join(" ").replace("-m conntrack --ctstate RELATED,ESTABLISHED", "").trim().split(/\s+/) : args;
    const f = flags(rest, ["-s", "-d", "-i", "-o", "-j"]);
    if (!f || f.get("-j") !== "ACCEPT") return undefined;
    const r: ScannedForward = { netns, family, source: f.get("-s"), destination: f.get("-d"), inInterface: f.get("-i"), outInterface: f.get("-o"), established };
    if (!r.source && !r.destination && !r.inInterface && !r.outInterface && !established) return undefined; // accept-all: no resource makes that
    return sameSpec(forwardRule({ ...r, owner: OWNER_PREFIX } as any).spec, args) ? r : undefined;
}

const sameSpec = (a: string[], b: string[]) => JSON.stringify(a) === JSON.stringify(b);

/** Chains other tools keep, by the names they give them (Docker, Kubernetes, CNI, libvirt, ufw, fail2ban, Calico, Flannel, Weave, Tailscale, Cilium). */
const FOREIGN_CHAIN = /^(DOCKER|KUBE-|CNI-|LIBVIRT_|ufw6?-|f2b-|cali-|FLANNEL|WEAVE|ts-|CILIUM|OPENSHIFT|ISTIO)/;

/**
 * A listed rule's arguments (after `-A CHAIN`) as an IptablesRule's inputs, or why none declares it: a
 * match or option no property makes, a comment of its own (a pulumi-netns owner's: a stack has it; another: another tool's).
 */
function ruleProblem(args: string[], table: string, chain: string, family: Family): string | { args: Record<string, unknown> } {
    const parsed = parseIptablesRule(args);
    if ("problem" in parsed) return parsed.problem;
    if (parsed.comment?.startsWith(OWNER_PREFIX)) return `already managed by pulumi-netns (${parsed.comment})`;
    if (parsed.comment !== undefined) return `it carries a comment of its own (${JSON.stringify(parsed.comment)}): another tool's rule?`;
    const a = IptablesRuleArgs.safeParse({ ...parsed.args, table, chain, family, owner: `${OWNER_PREFIX}${"0".repeat(16)}` });
    if (!a.success) return `not a rule an IptablesRule makes: ${a.error.issues.map((i) => `${i.path.join(".") || "rule"}: ${i.message}`).join("; ")}`;
    return { args: parsed.args };
}

/** Why a scanned VXLAN (and its flood list) is not one a {@link Vxlan} declares (no remote, remotes nor group, a group without device…), or undefined. */
function vxlanProblem(spec: VxlanSpec, remotes: string[] | undefined): string | undefined {
    const r = VxlanArgs.safeParse({ name: "x", ...stripEmpty({ ...spec, remotes }), owner: `${OWNER_PREFIX}${"0".repeat(16)}` });
    return r.success ? undefined : `not a tunnel a Vxlan declares (${r.error.issues.map((i) => `${i.path.join(".") || "vxlan"}: ${i.message}`).join("; ")})`;
}

const stripEmpty = <T extends object>(o: T): Partial<T> => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;

/**
 * The port forwards among a namespace's nat rules (one family): each `PREROUTING` DNAT whose
 * `OUTPUT` twin is there too, and the hairpin MASQUERADE in `POSTROUTING` when there is one, taken
 * only when {@link portForwardRules} rebuilds exactly those rules; and the lines they take.
 */
function findPortForwards(nat: Record<string, string[]>, netns: string | undefined): { forwards: ScannedPortForward[]; taken: Set<string> } {
    const forwards: ScannedPortForward[] = [];
    const taken = new Set<string>();
    const bare = (line: string) => JSON.stringify(parseRuleLine(line));
    const lineOf = (chain: string, spec: string[]) => nat[chain].find((l) => !taken.has(l) && bare(l) === JSON.stringify(["-A", chain, ...spec]));
    for (const line of nat.PREROUTING) {
        const f = flags(parseRuleLine(line).slice(2), ["-d", "-p", "-m", "--dst-type", "--dport", "-j", "--to-destination"]);
        const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(f?.get("--to-destination") ?? "");
        if (!f || f.get("-j") !== "DNAT" || !m) continue;
        const base = { protocol: f.get("-p"), hostPort: Number(f.get("--dport")), hostAddress: f.get("-d")?.replace(/\/(32|128)$/, ""), toPort: Number(m[2]) === Number(f.get("--dport")) ? undefined : Number(m[2]) };
        // The hairpin's LAN, from each candidate MASQUERADE's source; without one, none.
        const lans = nat.POSTROUTING.map((l) => /^-A POSTROUTING -s \S+\/(\d+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined);
        for (const toAddress of [...new Set(lans)].map((len) => `${m[1]}/${len}`).concat(m[1])) {
            const a = PortForwardArgs.safeParse(stripEmpty({ ...base, toAddress, netns, owner: `${OWNER_PREFIX}${"0".repeat(16)}` }));
            if (!a.success) continue;
            const lines = portForwardRules(a.data).map((r) => lineOf(r.chain, r.spec));
            if (lines[0] !== line || lines.some((l) => l === undefined)) continue;
            for (const l of lines) taken.add(l!);
            forwards.push(stripEmpty({ netns, protocol: a.data.protocol, hostPort: a.data.hostPort, hostAddress: a.data.hostAddress, toAddress: a.data.toAddress, toPort: a.data.toPort }) as ScannedPortForward);
            break;
        }
    }
    return { forwards, taken };
}

// ---------------------------------------------------------------------------------------------
// Rendering

/** How the program reaches the scanned host: the `connection` and `sudo` every resource gets. */
export interface ProgramTarget {
    connection?: { host: string; user?: string; port?: number };
    sudo?: boolean;
}

/** A JavaScript identifier for a name (`br-lan` → `br_lan`), unique within `taken`. */
function ident(name: string, taken: Set<string>): string {
    let base = name.replace(/[^A-Za-z0-9_$]/g, "_").replace(/^([0-9])/, "_$1") || "_";
    if (["default", "new", "delete", "in", "do", "if", "for", "var", "let", "const", "class", "function", "return", "netns", "pulumi"].includes(base)) base = `${base}_`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}${i}`;
    taken.add(id);
    return id;
}

const lit = (v: unknown) => JSON.stringify(v);

/** Properties as a TypeScript object literal; values are code (already rendered); undefined ones are left out. */
function obj(props: [string, string | undefined][]): string {
    return `{ ${props.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`).join(", ")} }`;
}

/**
 * A link's addresses, mtu, up and MAC as inputs, each left out where it is the default (`kernelMtu`:
 * what the kernel gives the link). The MAC is always declared: the kernel does not say whether a
 * script set it or drew it at random, and either way it is the one the network knows (neighbours'
 * caches, DHCP leases, filters), so a link made again keeps it.
 */
function linkSettings(link: Link, kernelMtu = 1500): [string, string | undefined][] {
    return [
        ["addresses", link.addresses.length ? lit(link.addresses) : undefined],
        ["mtu", link.mtu === kernelMtu ? undefined : String(link.mtu)],
        ["up", link.up ? undefined : "false"],
        ["mac", lit(link.mac)],
    ];
}

/** The network of an address with its prefix ("10.1.1.2/16" → "10.1.0.0/16"). */
function contains(cidr: string, address: string): boolean {
    const net = parsePrefix(cidr), a = parsePrefix(address);
    if (!net || !a || net.family !== a.family) return false;
    const bits = BigInt(net.family === 4 ? 32 : 128);
    const shift = bits - BigInt(net.length);
    return net.value >> shift === a.value >> shift;
}

/** The TypeScript program that declares the topology, every resource with `adopt: true`. */
export function renderProgram(topo: Topology, target: ProgramTarget = {}, source = "this host"): string {
    const taken = new Set<string>();
    // Resource names: a link's own, with its namespace added where two namespaces hold one of that name (and a number if still taken).
    const names = new Set<string>();
    const resName = (name: string, ns: string | undefined) => {
        let n = names.has(name) ? `${name}-${ns ?? "root"}` : name;
        for (let i = 2; names.has(n); i++) n = `${name}-${ns ?? "root"}-${i}`;
        names.add(n);
        return lit(n);
    };
    const lines: string[] = [
        `// Written by \`pulumi-netns scan\` from ${source} on ${new Date().toISOString().slice(0, 10)}.`,
        "// Every resource takes over (adopt: true) what exists as it is: `pulumi up` writes only",
        "// pulumi-netns' markers, and fails, changing nothing, where the host no longer matches.",
        'import * as netns from "pulumi-netns";',
        "",
    ];
    const common: [string, string | undefined][] = [];
    if (target.connection) {
        lines.push(
            `// Add the key: privateKey: new pulumi.Config().requireSecret("sshKey") (and hostKey), or an agent.`,
            `const connection = ${lit(target.connection)};`,
            "",
        );
        common.push(["connection", "connection"]);
    }
    if (target.sudo) common.push(["sudo", "true"]);
    common.push(["adopt", "true"]);

    // name of namespace → variable; link "ns/name" → [variable, which end] for wiring outputs.
    const nsVar = new Map<string, string>();
    const linkRef = new Map<string, { name: string; netns: string | undefined }>();
    const nsRef = (ns: string | undefined) => (ns === undefined ? undefined : nsVar.has(ns) ? `${nsVar.get(ns)}.name` : lit(ns));
    const at = (ns: string | undefined, name: string) => `${ns ?? ""}/${name}`;
    const linksOf = (ns: string | undefined) => [
        ...[...topo.bridges, ...topo.macvlans, ...topo.vxlans].map((b) => ({ ns: b.netns, link: b.link })),
        ...topo.veths.flatMap((v) => [{ ns: v.end.netns, link: v.end.link }, { ns: v.peer.netns, link: v.peer.link }]),
    ].filter((x) => x.ns === ns);

    for (const n of topo.namespaces) {
        const v = ident(n.name!, taken);
        nsVar.set(n.name!, v);
        lines.push(`const ${v} = new netns.Netns(${lit(n.name)}, ${obj([
            ["name", lit(n.name)],
            ["loopbackUp", n.loopbackUp ? undefined : "false"],
            ["dns", n.dns && n.dns.nameservers.length > 0 ? lit({ nameservers: n.dns.nameservers, ...(n.dns.search.length ? { search: n.dns.search } : {}), ...(n.dns.options.length ? { options: n.dns.options } : {}) }) : undefined],
            ["hosts", n.hosts && Object.keys(n.hosts).length > 0 ? lit(n.hosts) : undefined],
            ...common,
        ])});`);
    }
    if (topo.namespaces.length) lines.push("");
    /** A link as an input: the declared resource's output when the program makes it, else its name. */
    const linkIn = (ns: string | undefined, name: string | undefined) => (name === undefined ? undefined : linkRef.get(at(ns, name))?.name ?? lit(name));
    for (const b of topo.bridges) {
        const v = ident(b.link.name, taken);
        linkRef.set(at(b.netns, b.link.name), { name: `${v}.name`, netns: b.netns && `${v}.netns` });
        lines.push(`const ${v} = new netns.Bridge(${resName(b.link.name, b.netns)}, ${obj([
            ["name", lit(b.link.name)],
            ["netns", nsRef(b.netns)],
            ...linkSettings(b.link),
            ...common,
        ])});`);
    }
    if (topo.bridges.length) lines.push("");
    for (const { end, peer } of topo.veths) {
        const v = ident(end.link.name, taken);
        linkRef.set(at(end.netns, end.link.name), { name: `${v}.name`, netns: end.netns && `${v}.netns` });
        linkRef.set(at(peer.netns, peer.link.name), { name: `${v}.peerName`, netns: peer.netns && `${v}.peerNetns` });
        if (end.link.up !== peer.link.up) lines.push(`// ${end.link.name} is ${end.link.up ? "up" : "down"} and ${peer.link.name} is ${peer.link.up ? "up" : "down"}: a VethPair has one \`up\` for both ends`);
        if (end.link.mtu !== peer.link.mtu) lines.push(`// ${end.link.name} has mtu ${end.link.mtu} and ${peer.link.name} ${peer.link.mtu}: a VethPair has one \`mtu\` for both ends`);
        lines.push(`const ${v} = new netns.VethPair(${resName(end.link.name, end.netns)}, ${obj([
            ["name", lit(end.link.name)],
            ["netns", nsRef(end.netns)],
            ["addresses", end.link.addresses.length ? lit(end.link.addresses) : undefined],
            ["master", linkIn(end.netns, end.link.master)],
            ["peerName", lit(peer.link.name)],
            ["peerNetns", nsRef(peer.netns)],
            ["peerAddresses", peer.link.addresses.length ? lit(peer.link.addresses) : undefined],
            ["peerMaster", linkIn(peer.netns, peer.link.master)],
            ["mtu", end.link.mtu === 1500 ? undefined : String(end.link.mtu)],
            ["up", end.link.up ? undefined : "false"],
            ["mac", lit(end.link.mac)],
            ["peerMac", lit(peer.link.mac)],
            ...common,
        ])});`);
    }
    if (topo.veths.length) lines.push("");
    // A macvlan after its parent, a vxlan after its underlay and bridge, when the program declares them.
    for (const m of topo.macvlans) {
        const v = ident(m.link.name, taken);
        linkRef.set(at(m.netns, m.link.name), { name: `${v}.name`, netns: m.netns && `${v}.netns` });
        lines.push(`const ${v} = new netns.Macvlan(${resName(m.link.name, m.netns)}, ${obj([
            ["name", lit(m.link.name)],
            ["parent", linkIn(undefined, m.parent)],
            ["mode", m.link.data?.mode === "bridge" ? undefined : lit(m.link.data?.mode)],
            ["netns", nsRef(m.netns)],
            ...linkSettings(m.link),
            ...common,
        ])});`);
    }
    for (const x of topo.vxlans) {
        const v = ident(x.link.name, taken);
        linkRef.set(at(x.netns, x.link.name), { name: `${v}.name`, netns: x.netns && `${v}.netns` });
        // The kernel's own MTU for a tunnel is its underlay's less its headers (50 bytes over IPv4, 70 over IPv6).
        const underlay = linksOf(x.netns).find((l) => l.link.name === x.spec.device)?.link.mtu ?? 1500;
        const kernelMtu = underlay - ((x.spec.remote ?? x.spec.group ?? x.spec.local ?? x.remotes?.[0] ?? "").includes(":") ? 70 : 50);
        lines.push(`const ${v} = new netns.Vxlan(${resName(x.link.name, x.netns)}, ${obj([
            ["name", lit(x.link.name)],
            ["vni", String(x.spec.vni)],
            ["local", x.spec.local && lit(x.spec.local)],
            ["remote", x.spec.remote && lit(x.spec.remote)],
            ["remotes", x.remotes && lit(x.remotes)],
            ["group", x.spec.group && lit(x.spec.group)],
            ["dstPort", x.spec.dstPort === 4789 ? undefined : String(x.spec.dstPort)],
            ["device", linkIn(x.netns, x.spec.device)],
            ["master", linkIn(x.netns, x.link.master)],
            ["netns", nsRef(x.netns)],
            ...linkSettings(x.link, kernelMtu),
            ...common,
        ])});`);
    }
    if (topo.macvlans.length || topo.vxlans.length) lines.push("");
    // A route after the link holding its gateway's network (through the link's outputs).
    for (const r of topo.routes) {
        const holder = linksOf(r.netns).find((x) => (r.gateway ? x.link.addresses.some((a) => contains(a, r.gateway!)) : x.link.name === r.device));
        const ref = holder && linkRef.get(at(r.netns, holder.link.name));
        const name = ident(`${r.netns ?? "root"}-${r.destination === "default" ? "default" : r.destination}${r.family === 6 ? "-v6" : ""}`, taken);
        lines.push(`new netns.Route(${lit(name.replace(/_/g, "-"))}, ${obj([
            ["destination", lit(r.destination)],
            ["gateway", r.gateway && lit(r.gateway)],
            ["device", r.device && (ref && holder!.link.name === r.device ? ref.name : lit(r.device))],
            ["netns", r.netns === undefined ? undefined : ref?.netns ?? nsRef(r.netns)],
            ["metric", r.metric === undefined ? undefined : String(r.metric)],
            ["source", r.source && lit(r.source)],
            ...common,
        ])});`);
    }
    if (topo.routes.length) lines.push("");
    const ifRef = (ns: string | undefined, name: string | undefined) => (name === undefined ? undefined : linkRef.get(at(ns, name))?.name ?? lit(name));
    topo.masquerades.forEach((m, i) => {
        lines.push(`new netns.MasqueradeRule(${lit(`masquerade-${m.netns ?? "root"}-${i + 1}`)}, ${obj([
            ["source", lit(m.source)], ["destination", m.destination && lit(m.destination)],
            ["outInterface", ifRef(m.netns, m.outInterface)], ["excludeOutInterface", ifRef(m.netns, m.excludeOutInterface)],
            ["netns", nsRef(m.netns)], ...common,
        ])});`);
    });
    topo.forwards.forEach((f, i) => {
        lines.push(`new netns.ForwardRule(${lit(`forward-${f.netns ?? "root"}-${i + 1}`)}, ${obj([
            ["inInterface", ifRef(f.netns, f.inInterface)], ["outInterface", ifRef(f.netns, f.outInterface)],
            ["source", f.source && lit(f.source)], ["destination", f.destination && lit(f.destination)],
            ["established", f.established ? "true" : undefined], ["family", f.family === 6 && !f.source && !f.destination ? "6" : undefined],
            ["netns", nsRef(f.netns)], ...common,
        ])});`);
    });
    topo.portForwards.forEach((p) => {
        lines.push(`new netns.PortForward(${resName(`port-forward-${p.netns ?? "root"}-${p.protocol}-${p.hostPort}${p.toAddress.includes(":") ? "-v6" : ""}`, p.netns)}, ${obj([
            ["protocol", lit(p.protocol)], ["hostPort", String(p.hostPort)], ["hostAddress", p.hostAddress && lit(p.hostAddress)],
            ["toAddress", lit(p.toAddress)], ["toPort", p.toPort === undefined ? undefined : String(p.toPort)],
            ["netns", nsRef(p.netns)], ...common,
        ])});`);
    });
    for (const fw of topo.forwarding) {
        lines.push(`new netns.SysctlForward(${lit(`forwarding-${fw.netns ?? "root"}`)}, ${obj([
            ["netns", nsRef(fw.netns)], ["ipv4", fw.ipv4 ? undefined : "false"], ["ipv6", fw.ipv6 ? "true" : undefined], ...common,
        ])});`);
    }
    for (const c of topo.policies) {
        lines.push(`new netns.ChainPolicy(${lit(ident(`policy-${c.netns ?? "root"}-${c.table === "filter" ? "" : `${c.table}-`}${c.chain.toLowerCase()}${c.family === 6 ? "-v6" : ""}`, taken).replace(/_/g, "-"))}, ${obj([
            ["chain", lit(c.chain)], ["table", c.table === "filter" ? undefined : lit(c.table)], ["policy", lit(c.policy)],
            ["family", c.family === 6 ? "6" : undefined], ["netns", nsRef(c.netns)], ...common,
        ])});`);
    }
    // User-defined chains, then every other rule in its chain's order: each after the one before it (dependsOn), so a
    // stack made anew appends them in that order; a chain's rules and the rules jumping to it name it (made after it, deleted before).
    const chainVar = new Map<string, string>();
    const chainKey = (ns: string | undefined, family: Family, table: string, name: string) => `${ns ?? ""}/${family}/${table}/${name}`;
    for (const c of topo.chains) {
        const v = ident(`chain_${c.netns ?? "root"}_${c.name}${c.family === 6 ? "_v6" : ""}`, taken);
        chainVar.set(chainKey(c.netns, c.family, c.table, c.name), v);
        lines.push(`const ${v} = new netns.IptablesChain(${lit(`chain-${c.netns ?? "root"}-${c.table === "filter" ? "" : `${c.table}-`}${c.name}${c.family === 6 ? "-v6" : ""}`)}, ${obj([
            ["name", lit(c.name)], ["table", c.table === "filter" ? undefined : lit(c.table)], ["family", c.family === 6 ? "6" : undefined],
            ["netns", nsRef(c.netns)], ...common,
        ])});`);
    }
    const previous = new Map<string, string>();
    for (const r of topo.rules) {
        const key = chainKey(r.netns, r.family, r.table, r.chain);
        const v = ident(`rule_${r.netns ?? "root"}_${r.table === "filter" ? "" : `${r.table}_`}${r.chain}${r.family === 6 ? "_v6" : ""}`.toLowerCase(), taken);
        const ref = (name: unknown) => chainVar.has(chainKey(r.netns, r.family, r.table, String(name))) ? `${chainVar.get(chainKey(r.netns, r.family, r.table, String(name)))}.name` : lit(name);
        const implied = [r.args.source, r.args.destination, r.args.toDestination, r.args.toSource].some((x) => String(x ?? "").includes(":") && !/^[\d.]+:/.test(String(x))) || r.args.protocol === "ipv6-icmp";
        const value = (k: string, x: unknown) => (k === "jump" ? ref(x) : k === "inInterface" || k === "outInterface" ? ifRef(r.netns, String(x)) : lit(x));
        const props: [string, string | undefined][] = [
            ["table", r.table === "filter" ? undefined : lit(r.table)], ["chain", ref(r.chain)], ["family", r.family === 6 && !implied ? "6" : undefined],
            ...IPTABLES_RULE_KEYS.filter((k) => r.args[k] !== undefined).map((k): [string, string | undefined] => [k, value(k, r.args[k])]),
            ["netns", nsRef(r.netns)], ...common,
        ];
        const after = previous.get(key);
        lines.push(`const ${v} = new netns.IptablesRule(${lit(v.replace(/_/g, "-"))}, ${obj(props)}${after ? `, { dependsOn: [${after}] }` : ""});`);
        previous.set(key, v);
    }
    if (topo.unmodelled.length) {
        lines.push("", "// Found, and not declared here (no resource models it, or a stack already manages it):", ...topo.unmodelled.map((u) => `//   ${u}`));
    }
    return lines.join("\n") + "\n";
}

/** The topology as a Mermaid flowchart: namespaces as boxes, links with their addresses, veth pairs and bridge ports as edges. */
export function renderMermaid(topo: Topology): string {
    const taken = new Set<string>();
    const id = new Map<string, string>();
    const node = (ns: string | undefined, name: string) => {
        const k = `${ns ?? ""}/${name}`;
        if (!id.has(k)) id.set(k, ident(`${ns ?? "root"}_${name}`, taken));
        return id.get(k)!;
    };
    const label = (l: Link, kind: string) => `${l.name} (${kind})${l.addresses.map((a) => `<br/>${a}`).join("")}`;
    const lines = ["flowchart LR"];
    const groups = [undefined, ...topo.namespaces.map((n) => n.name)];
    for (const ns of groups) {
        const members = [
            ...topo.bridges.filter((b) => b.netns === ns).map((b) => `    ${node(ns, b.link.name)}[["${label(b.link, "bridge")}"]]`),
            ...topo.veths.flatMap((v) => [v.end, v.peer]).filter((e) => e.netns === ns).map((e) => `    ${node(ns, e.link.name)}["${label(e.link, "veth")}"]`),
            ...topo.macvlans.filter((m) => m.netns === ns).map((m) => `    ${node(ns, m.link.name)}["${label(m.link, "macvlan")}"]`),
            ...topo.vxlans.filter((x) => x.netns === ns).map((x) => `    ${node(ns, x.link.name)}["${label(x.link, `vxlan ${x.spec.vni}`)}"]`),
        ];
        lines.push(`  subgraph ${ident(`ns_${ns ?? "root"}`, taken)}["${ns ?? "root namespace"}"]`, ...(members.length ? members : [`    ${ident(`${ns ?? "root"}_empty`, taken)}(( ))`]), "  end");
    }
    for (const v of topo.veths) lines.push(`  ${node(v.end.netns, v.end.link.name)} <-->|veth| ${node(v.peer.netns, v.peer.link.name)}`);
    for (const e of [...topo.veths.flatMap((v) => [v.end, v.peer]), ...topo.vxlans]) {
        if (e.link.master) lines.push(`  ${node(e.netns, e.link.name)} -->|port of| ${node(e.netns, e.link.master)}`);
    }
    for (const m of topo.macvlans) lines.push(`  ${node(m.netns, m.link.name)} -->|macvlan on| ${node(undefined, m.parent)}`);
    for (const x of topo.vxlans) lines.push(`  ${node(x.netns, x.link.name)} -.->|${x.spec.remote ? `to ${x.spec.remote}` : x.remotes ? `to ${x.remotes.join(", ")}` : `group ${x.spec.group}`}| ${x.spec.device ? node(x.netns, x.spec.device) : ident(`${x.netns ?? "root"}_${x.link.name}_underlay`, taken)}`);
    return lines.join("\n") + "\n";
}
