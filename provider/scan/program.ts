/**
 * scan's TypeScript program: the topology declared as this package's resources, every one with
 * \`adopt: true\`, wired through outputs so the engine orders them; what no resource models as comments.
 */
import { parsePrefix } from "../core/ip";
import type { Family } from "../linux/iptables";
import type { Link } from "../linux/link";
import { OWNER_PREFIX } from "../core/owner";
import { IPTABLES_RULE_KEYS, iptablesRule, IptablesRuleSchema } from "../resources/iptables-rule";
import type { Topology } from "./topology";


/** How the program reaches the scanned host: the `connection` and `sudo` every resource gets. */
export interface ProgramTarget {
    connection?: { host: string; user?: string; port?: number };
    sudo?: boolean;
}

/** A JavaScript identifier for a name (`br-lan` → `br_lan`), unique within `taken`. */
export function ident(name: string, taken: Set<string>): string {
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

/** True when `address` is in the network of `cidr` (an address with its prefix: "10.1.1.2/16" holds 10.1.x.x). */
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
        // `family` only where the rule's addresses and protocol do not tell it (as IptablesRule infers it).
        const inferred = IptablesRuleSchema.safeParse({ ...r.args, table: r.table, chain: r.chain, owner: `${OWNER_PREFIX}${"0".repeat(16)}` });
        const implied = inferred.success && iptablesRule(inferred.data).family === r.family;
        const value = (k: string, x: unknown) => (k === "jump" ? ref(x) : k === "inInterface" || k === "outInterface" ? ifRef(r.netns, String(x)) : lit(x));
        const props: [string, string | undefined][] = [
            ["table", r.table === "filter" ? undefined : lit(r.table)], ["chain", ref(r.chain)], ["family", implied ? undefined : String(r.family)],
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
