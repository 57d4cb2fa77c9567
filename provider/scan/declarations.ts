/**
 * What scan declares, once, for every renderer: a topology as a list of declarations (a resource of
 * this package each: its kind, its name, its inputs, where an input may be another declaration's
 * output, and what it must come after). `program.ts` renders them as TypeScript, `yaml.ts` as a Pulumi
 * YAML program, `import.ts` as a `pulumi import` file; `importInputs` finds one of them again by its id.
 */
import { parsePrefix } from "../core/ip";
import { OWNER_PREFIX } from "../core/owner";
import type { Family } from "../linux/iptables";
import type { Link } from "../linux/link";
import { IPTABLES_RULE_KEYS, iptablesRule, IptablesRuleSchema } from "../resources/iptables-rule";
import type { Topology } from "./topology";

/** The resources scan declares, by the name of their class (and of their type token `netns:index:KIND`). */
export const KINDS = ["Netns", "Bridge", "VethPair", "Macvlan", "Vxlan", "Route", "MasqueradeRule", "ForwardRule", "PortForward", "SysctlForward", "ChainPolicy", "IptablesChain", "IptablesRule"] as const;
export type Kind = (typeof KINDS)[number];

/** An input that is another declaration's output (`br0.name`): what orders the two. `value` is that output's value as scanned. */
export class Ref {
    constructor(
        /** The {@link Declaration.key} of the declaration whose output this is. */
        readonly ref: string,
        /** The output's name (the input of the same name on that resource). */
        readonly output: string,
        readonly value: unknown,
    ) {}
}

/** One resource as scan declares it. */
export interface Declaration {
    kind: Kind;
    /** Its resource name in the TypeScript program (two of different kinds may share one there). */
    name: string;
    /** Its name among all the declarations (`name`, with the kind added where another kind has the name): a YAML program's resource name, and what a {@link Ref} names. */
    key: string;
    /** The TypeScript program's variable holding it, for the kinds it keeps in one. */
    variable?: string;
    /** Its inputs, in the order a program gives them; each a plain value or a {@link Ref}. `adopt`, `connection` and `sudo` are the renderers' to add. */
    inputs: Record<string, unknown>;
    /** Keys of the declarations it must come after (beyond its references). */
    dependsOn: string[];
    /** What a reader should know about it (one line each). */
    comments: string[];
}

/** An input's value as scanned: a {@link Ref}'s value, any other value as it is. */
export function literal(v: unknown): unknown {
    return v instanceof Ref ? literal(v.value) : v;
}

/** A declaration's inputs with every {@link Ref} replaced by its value: the inputs that declare the object as it is. */
export function literalInputs(d: Pick<Declaration, "inputs">): Record<string, unknown> {
    return Object.fromEntries(Object.entries(d.inputs).map(([k, v]) => [k, literal(v)]));
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

/** True when `address` is in the network of `cidr` (an address with its prefix: "10.1.1.2/16" holds 10.1.x.x). */
function contains(cidr: string, address: string): boolean {
    const net = parsePrefix(cidr), a = parsePrefix(address);
    if (!net || !a || net.family !== a.family) return false;
    const bits = BigInt(net.family === 4 ? 32 : 128);
    const shift = bits - BigInt(net.length);
    return net.value >> shift === a.value >> shift;
}

/**
 * A link's addresses, mtu, up and MAC as inputs, each left out where it is the default (`kernelMtu`:
 * what the kernel gives the link). The MAC is always declared: the kernel does not say whether a
 * script set it or drew it at random, and either way it is the one the network knows (neighbours'
 * caches, DHCP leases, filters), so a link made again keeps it.
 */
function linkSettings(link: Link, kernelMtu = 1500): Record<string, unknown> {
    return {
        addresses: link.addresses.length ? link.addresses : undefined,
        mtu: link.mtu === kernelMtu ? undefined : link.mtu,
        up: link.up ? undefined : false,
        mac: link.mac,
    };
}

/**
 * The topology as declarations, in the order a program declares them: namespaces, bridges, veth
 * pairs, macvlans and VXLANs, routes, then the firewall (MASQUERADE and FORWARD rules, port forwards,
 * forwarding, policies, user-defined chains, every other rule in its chain's order). Dependencies go
 * through outputs: a veth after its namespaces and bridge, a macvlan after its parent, a VXLAN after
 * its underlay and bridge, a route after the link holding its gateway's network, a rule after its chain.
 */
export function declare(topo: Topology): Declaration[] {
    const out: Declaration[] = [];
    const taken = new Set<string>(); // TypeScript identifiers
    const keys = new Set<string>();
    // Resource names: a link's own, with its namespace added where two namespaces hold one of that name (and a number if still taken).
    const names = new Set<string>();
    const resName = (name: string, ns: string | undefined) => {
        let n = names.has(name) ? `${name}-${ns ?? "root"}` : name;
        for (let i = 2; names.has(n); i++) n = `${name}-${ns ?? "root"}-${i}`;
        names.add(n);
        return n;
    };
    const add = (kind: Kind, name: string, inputs: Record<string, unknown>, more: { variable?: string; dependsOn?: string[]; comments?: string[] } = {}): Declaration => {
        let key = keys.has(name) ? `${name}-${kind.toLowerCase()}` : name;
        for (let i = 2; keys.has(key); i++) key = `${name}-${kind.toLowerCase()}-${i}`;
        keys.add(key);
        const d: Declaration = {
            kind, name, key, ...(more.variable ? { variable: more.variable } : {}),
            inputs: Object.fromEntries(Object.entries(inputs).filter(([, v]) => v !== undefined)),
            dependsOn: more.dependsOn ?? [], comments: more.comments ?? [],
        };
        out.push(d);
        return d;
    };
    const ref = (d: Declaration, output: string) => new Ref(d.key, output, d.inputs[output]);

    // name of namespace → its declaration; link "ns/name" → its name and namespace as outputs of the resource declaring it.
    const nsDecl = new Map<string, Declaration>();
    const linkRef = new Map<string, { name: Ref; netns: Ref | undefined }>();
    const nsRef = (ns: string | undefined) => (ns === undefined ? undefined : nsDecl.has(ns) ? ref(nsDecl.get(ns)!, "name") : ns);
    const at = (ns: string | undefined, name: string) => `${ns ?? ""}/${name}`;
    const linksOf = (ns: string | undefined) => [
        ...[...topo.bridges, ...topo.macvlans, ...topo.vxlans].map((b) => ({ ns: b.netns, link: b.link })),
        ...topo.veths.flatMap((v) => [{ ns: v.end.netns, link: v.end.link }, { ns: v.peer.netns, link: v.peer.link }]),
    ].filter((x) => x.ns === ns);
    /** A link as an input: the declaring resource's output when there is one, else its name. */
    const linkIn = (ns: string | undefined, name: string | undefined) => (name === undefined ? undefined : linkRef.get(at(ns, name))?.name ?? name);
    const linkOutputs = (d: Declaration, ns: string | undefined, name: string, end: "" | "peer") => {
        const output = (o: string) => (end ? `peer${o[0].toUpperCase()}${o.slice(1)}` : o);
        linkRef.set(at(ns, name), { name: ref(d, output("name")), netns: ns === undefined ? undefined : ref(d, output("netns")) });
    };

    for (const n of topo.namespaces) {
        const variable = ident(n.name!, taken);
        nsDecl.set(n.name!, add("Netns", n.name!, {
            name: n.name,
            loopbackUp: n.loopbackUp ? undefined : false,
            dns: n.dns && n.dns.nameservers.length > 0 ? { nameservers: n.dns.nameservers, ...(n.dns.search.length ? { search: n.dns.search } : {}), ...(n.dns.options.length ? { options: n.dns.options } : {}) } : undefined,
            hosts: n.hosts && Object.keys(n.hosts).length > 0 ? n.hosts : undefined,
        }, { variable }));
    }
    for (const b of topo.bridges) {
        const variable = ident(b.link.name, taken);
        const d = add("Bridge", resName(b.link.name, b.netns), { name: b.link.name, netns: nsRef(b.netns), ...linkSettings(b.link) }, { variable });
        linkOutputs(d, b.netns, b.link.name, "");
    }
    for (const { end, peer } of topo.veths) {
        const variable = ident(end.link.name, taken);
        const comments = [
            ...(end.link.up !== peer.link.up ? [`${end.link.name} is ${end.link.up ? "up" : "down"} and ${peer.link.name} is ${peer.link.up ? "up" : "down"}: a VethPair has one \`up\` for both ends`] : []),
            ...(end.link.mtu !== peer.link.mtu ? [`${end.link.name} has mtu ${end.link.mtu} and ${peer.link.name} ${peer.link.mtu}: a VethPair has one \`mtu\` for both ends`] : []),
        ];
        const d = add("VethPair", resName(end.link.name, end.netns), {
            name: end.link.name,
            netns: nsRef(end.netns),
            addresses: end.link.addresses.length ? end.link.addresses : undefined,
            master: linkIn(end.netns, end.link.master),
            peerName: peer.link.name,
            peerNetns: nsRef(peer.netns),
            peerAddresses: peer.link.addresses.length ? peer.link.addresses : undefined,
            peerMaster: linkIn(peer.netns, peer.link.master),
            mtu: end.link.mtu === 1500 ? undefined : end.link.mtu,
            up: end.link.up ? undefined : false,
            mac: end.link.mac,
            peerMac: peer.link.mac,
        }, { variable, comments });
        linkOutputs(d, end.netns, end.link.name, "");
        linkOutputs(d, peer.netns, peer.link.name, "peer");
    }
    // A macvlan after its parent, a vxlan after its underlay and bridge, when declared here.
    for (const m of topo.macvlans) {
        const variable = ident(m.link.name, taken);
        const d = add("Macvlan", resName(m.link.name, m.netns), {
            name: m.link.name,
            parent: linkIn(undefined, m.parent),
            mode: m.link.data?.mode === "bridge" ? undefined : m.link.data?.mode,
            netns: nsRef(m.netns),
            ...linkSettings(m.link),
        }, { variable });
        linkOutputs(d, m.netns, m.link.name, "");
    }
    for (const x of topo.vxlans) {
        const variable = ident(x.link.name, taken);
        // The kernel's own MTU for a tunnel is its underlay's less its headers (50 bytes over IPv4, 70 over IPv6).
        const underlay = linksOf(x.netns).find((l) => l.link.name === x.spec.device)?.link.mtu ?? 1500;
        const kernelMtu = underlay - ((x.spec.remote ?? x.spec.group ?? x.spec.local ?? x.remotes?.[0] ?? "").includes(":") ? 70 : 50);
        const d = add("Vxlan", resName(x.link.name, x.netns), {
            name: x.link.name,
            vni: x.spec.vni,
            local: x.spec.local,
            remote: x.spec.remote,
            remotes: x.remotes,
            group: x.spec.group,
            dstPort: x.spec.dstPort === 4789 ? undefined : x.spec.dstPort,
            device: linkIn(x.netns, x.spec.device),
            master: linkIn(x.netns, x.link.master),
            netns: nsRef(x.netns),
            ...linkSettings(x.link, kernelMtu),
        }, { variable });
        linkOutputs(d, x.netns, x.link.name, "");
    }
    // A route after the link holding its gateway's network (through the link's outputs).
    for (const r of topo.routes) {
        const holder = linksOf(r.netns).find((x) => (r.gateway ? x.link.addresses.some((a) => contains(a, r.gateway!)) : x.link.name === r.device));
        const via = holder && linkRef.get(at(r.netns, holder.link.name));
        const name = ident(`${r.netns ?? "root"}-${r.destination === "default" ? "default" : r.destination}${r.family === 6 ? "-v6" : ""}`, taken);
        add("Route", name.replace(/_/g, "-"), {
            destination: r.destination,
            gateway: r.gateway,
            device: r.device && (via && holder!.link.name === r.device ? via.name : r.device),
            netns: r.netns === undefined ? undefined : via?.netns ?? nsRef(r.netns),
            metric: r.metric,
            source: r.source,
        });
    }
    topo.masquerades.forEach((m, i) => {
        add("MasqueradeRule", `masquerade-${m.netns ?? "root"}-${i + 1}`, {
            source: m.source, destination: m.destination,
            outInterface: linkIn(m.netns, m.outInterface), excludeOutInterface: linkIn(m.netns, m.excludeOutInterface),
            netns: nsRef(m.netns),
        });
    });
    topo.forwards.forEach((f, i) => {
        add("ForwardRule", `forward-${f.netns ?? "root"}-${i + 1}`, {
            inInterface: linkIn(f.netns, f.inInterface), outInterface: linkIn(f.netns, f.outInterface),
            source: f.source, destination: f.destination,
            established: f.established ? true : undefined, family: f.family === 6 && !f.source && !f.destination ? 6 : undefined,
            netns: nsRef(f.netns),
        });
    });
    for (const p of topo.portForwards) {
        add("PortForward", resName(`port-forward-${p.netns ?? "root"}-${p.protocol}-${p.hostPort}${p.toAddress.includes(":") ? "-v6" : ""}`, p.netns), {
            protocol: p.protocol, hostPort: p.hostPort, hostAddress: p.hostAddress, toAddress: p.toAddress, toPort: p.toPort, netns: nsRef(p.netns),
        });
    }
    for (const fw of topo.forwarding) {
        add("SysctlForward", `forwarding-${fw.netns ?? "root"}`, { netns: nsRef(fw.netns), ipv4: fw.ipv4 ? undefined : false, ipv6: fw.ipv6 ? true : undefined });
    }
    for (const c of topo.policies) {
        add("ChainPolicy", ident(`policy-${c.netns ?? "root"}-${c.table === "filter" ? "" : `${c.table}-`}${c.chain.toLowerCase()}${c.family === 6 ? "-v6" : ""}`, taken).replace(/_/g, "-"), {
            chain: c.chain, table: c.table === "filter" ? undefined : c.table, policy: c.policy, family: c.family === 6 ? 6 : undefined, netns: nsRef(c.netns),
        });
    }
    // User-defined chains, then every other rule in its chain's order: each after the one before it (dependsOn), so a
    // stack made anew appends them in that order; a chain's rules and the rules jumping to it name it (made after it, deleted before).
    const chainDecl = new Map<string, Declaration>();
    const chainKey = (ns: string | undefined, family: Family, table: string, name: string) => `${ns ?? ""}/${family}/${table}/${name}`;
    for (const c of topo.chains) {
        const variable = ident(`chain_${c.netns ?? "root"}_${c.name}${c.family === 6 ? "_v6" : ""}`, taken);
        chainDecl.set(chainKey(c.netns, c.family, c.table, c.name), add("IptablesChain", `chain-${c.netns ?? "root"}-${c.table === "filter" ? "" : `${c.table}-`}${c.name}${c.family === 6 ? "-v6" : ""}`, {
            name: c.name, table: c.table === "filter" ? undefined : c.table, family: c.family === 6 ? 6 : undefined, netns: nsRef(c.netns),
        }, { variable }));
    }
    const previous = new Map<string, Declaration>();
    for (const r of topo.rules) {
        const key = chainKey(r.netns, r.family, r.table, r.chain);
        const variable = ident(`rule_${r.netns ?? "root"}_${r.table === "filter" ? "" : `${r.table}_`}${r.chain}${r.family === 6 ? "_v6" : ""}`.toLowerCase(), taken);
        const chain = (name: unknown) => {
            const c = chainDecl.get(chainKey(r.netns, r.family, r.table, String(name)));
            return c ? ref(c, "name") : name;
        };
        // `family` only where the rule's addresses and protocol do not tell it (as IptablesRule infers it).
        const inferred = IptablesRuleSchema.safeParse({ ...r.args, table: r.table, chain: r.chain, owner: `${OWNER_PREFIX}${"0".repeat(16)}` });
        const implied = inferred.success && iptablesRule(inferred.data).family === r.family;
        const value = (k: string, x: unknown) => (k === "jump" ? chain(x) : k === "inInterface" || k === "outInterface" ? linkIn(r.netns, String(x)) : x);
        const after = previous.get(key);
        previous.set(key, add("IptablesRule", variable.replace(/_/g, "-"), {
            table: r.table === "filter" ? undefined : r.table, chain: chain(r.chain), family: implied ? undefined : r.family,
            ...Object.fromEntries(IPTABLES_RULE_KEYS.filter((k) => r.args[k] !== undefined).map((k) => [k, value(k, r.args[k])])),
            netns: nsRef(r.netns),
        }, { variable, dependsOn: after ? [after.key] : [] }));
    }
    return out;
}
