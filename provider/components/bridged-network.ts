import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { addressFamily, nthAddress, parsePrefix, Prefix, prefixSize } from "../core/ip";
import type { TargetArgs } from "../core/resource";
import { Burst, checkFailures, IfName, IpAddress, Mtu, NetnsName, Network, Rate } from "../core/schema";
import { Bridge } from "../resources/bridge";
import { ForwardRule } from "../resources/forward";
import { MasqueradeRule } from "../resources/masquerade";
import { DnsSchema, HostsSchema, Netns } from "../resources/netns";
import { Route } from "../resources/route";
import { SysctlForward } from "../resources/sysctl";
import { VethPair } from "../resources/veth";
import { Vni, Vxlan, VxlanPort } from "../resources/vxlan";

/** One namespace on the LAN: its name, and optionally a pinned address, the host it is on, and a rate limit of its own. */
const Member = z.union([
    NetnsName,
    z.object({ name: NetnsName, address: IpAddress.optional(), host: z.string().optional(), rate: Rate.optional(), burst: Burst.optional() }).strict(),
]);

/** A host name (a key of `peers`): it goes into resource names (`lan-HOST-bridge`), so letters, digits and `-`, a letter first. */
const HOST_KEY = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

/** Another host of the LAN, as the schema sees it (its `connection` and `sudo` are checked by each resource made there). */
const LanHost = z.object({ underlay: IpAddress, underlayDevice: IfName.optional() }).strict();

/** Arguments of {@link BridgedNetwork} (without `connection`, `sudo` and `adopt`, top level and per host), validated when the program runs (so `pulumi preview` reports them). */
export const BridgedNetworkSchema = z
    .object({
        bridge: IfName,
        cidr: Network,
        gateway: IpAddress.optional(),
        namespaces: z.array(Member),
        nat: z
            .object({ outInterface: IfName.optional(), excludeOutInterface: IfName.optional() })
            .strict()
            .refine((n) => !(n.outInterface && n.excludeOutInterface), "give outInterface or excludeOutInterface, not both")
            .optional(),
        forward: z.boolean().default(false),
        /** Every namespace's resolver (`Netns.dns`). */
        dns: DnsSchema.optional(),
        /** Every namespace's hosts file (`Netns.hosts`). */
        hosts: HostsSchema.optional(),
        /** The other hosts of a LAN spanning hosts, by a name of your choice (see the type {@link BridgedNetworkArgs}). */
        peers: z.record(z.string(), LanHost).optional(),
        /** This host's (the component's) address on the underlay, which the other hosts reach it at. */
        underlay: IpAddress.optional(),
        underlayDevice: IfName.optional(),
        /** The host holding the gateway address and the NAT and FORWARD rules: a key of `peers`; omitted = this host. */
        gatewayHost: z.string().optional(),
        vxlan: z.object({ vni: Vni.optional(), dstPort: VxlanPort, name: IfName.optional() }).strict().optional(),
        mtu: Mtu.optional(),
        rate: Rate.optional(),
        burst: Burst.optional(),
    })
    .strict()
    .superRefine((a, ctx) => {
        const peers = Object.keys(a.peers ?? {});
        const known = peers.length > 0 ? `known: ${peers.join(", ")}` : "no peers declared";
        const unknownHost = (h: string) => `unknown host "${h}" (${known}): declare it under peers, or leave it out for the component's own host`;
        for (const h of peers) if (!HOST_KEY.test(h)) ctx.addIssue({ code: "custom", path: ["peers", h], message: "a host's name must be 1–32 letters, digits and '-', a letter first (it is part of resource names)" });
        if (peers.length > 0 && a.underlay === undefined) {
            ctx.addIssue({ code: "custom", path: ["underlay"], message: "a LAN spanning hosts needs this host's underlay address (the one the other hosts reach it at), e.g. underlay: \"192.0.2.10\"" });
        }
        if (a.gatewayHost !== undefined && !peers.includes(a.gatewayHost)) ctx.addIssue({ code: "custom", path: ["gatewayHost"], message: unknownHost(a.gatewayHost) });
        (a.namespaces ?? []).forEach((m, i) => {
            if (typeof m !== "object" || m === null) return;
            if (m.host !== undefined && !peers.includes(m.host)) ctx.addIssue({ code: "custom", path: ["namespaces", i, "host"], message: unknownHost(m.host) });
            if (m.burst !== undefined && m.rate === undefined && a.rate === undefined) ctx.addIssue({ code: "custom", path: ["namespaces", i, "burst"], message: "burst needs a rate (the namespace's or the LAN's)" });
        });
        if (a.burst !== undefined && a.rate === undefined) ctx.addIssue({ code: "custom", path: ["burst"], message: "burst needs a rate" });
        // Underlays: one address per host, one family, none on the LAN itself (the tunnel would run over itself).
        const underlays: [string[], string][] = [
            ...(a.underlay !== undefined ? [[["underlay"], a.underlay] as [string[], string]] : []),
            ...Object.entries(a.peers ?? {}).filter(([, h]) => typeof h?.underlay === "string").map(([k, h]) => [["peers", k, "underlay"], h.underlay] as [string[], string]),
        ];
        const lan = typeof a.cidr === "string" ? parsePrefix(a.cidr) : undefined;
        underlays.forEach(([path, address], i) => {
            const first = underlays.findIndex(([, other]) => other === address);
            const who = (p: string[]) => (p.length === 1 ? "this host's underlay" : `host "${p[1]}"'s underlay`);
            if (first < i) ctx.addIssue({ code: "custom", path, message: `${address} is also ${who(underlays[first][0])}: each host needs an address of its own` });
            const fam = addressFamily(address);
            if (fam !== undefined && fam !== addressFamily(underlays[0][1])) ctx.addIssue({ code: "custom", path, message: `is IPv${fam} but ${who(underlays[0][0])} is IPv${addressFamily(underlays[0][1])}: the tunnels need one family` });
            const p = parsePrefix(address);
            if (lan && p && p.family === lan.family && (p.value & ~(prefixSize(lan) - 1n)) === lan.value) {
                ctx.addIssue({ code: "custom", path, message: `${address} is on the LAN's own network ${a.cidr}: the underlay must be another network (the one the hosts already share)` });
            }
        });
    });

/** A host of the LAN besides the component's own: where its resources run, and its underlay. */
export interface LanHostArgs extends Omit<TargetArgs, "adopt"> {
    /** This host's address on the underlay, which the other hosts reach it at (the source of its tunnel's packets). */
    underlay: string;
    /** The underlay link the tunnel goes out of; omitted = the kernel picks it by route. */
    underlayDevice?: string;
}

/** Arguments of {@link BridgedNetwork}: the LAN's plan, and where (and how) every resource of it runs. */
export type BridgedNetworkArgs = Omit<z.input<typeof BridgedNetworkSchema>, "peers"> & TargetArgs & {
    /**
     * The other hosts of a LAN spanning hosts, by a name of your choice: each gets the bridge, a
     * VXLAN device joining it to the others, and the members whose `host` names it. Each peer's
     * `connection` and `sudo` are its own (omitted: this machine, no sudo). The component's own host
     * (its `connection`) is the LAN's first host, and then needs `underlay`.
     */
    peers?: Record<string, LanHostArgs>;
};

/** A host of the LAN: undefined = the component's own host. */
export type HostKey = string | undefined;
/** A namespace's place on the LAN. */
export interface LanMember {
    netns: string;
    /** Address inside the namespace, without prefix length. */
    address: string;
    /** Name of the host-side veth end (on the bridge). */
    hostVeth: string;
    /** The host it is on: a key of `peers`, or undefined for the component's own host. */
    host: HostKey;
    /** Its veth pair's rate limit (its own, else the LAN's), and burst. */
    rate?: string;
    burst?: string;
}

/** A host of the LAN and its part of the plan. */
export interface LanHost {
    /** A key of `peers`; undefined for the component's own host. */
    key: HostKey;
    underlay?: string;
    underlayDevice?: string;
    /** It holds the gateway address (and the NAT and FORWARD rules). */
    gateway: boolean;
}

/** What {@link planLan} derives: addresses, names, hosts and the tunnels joining them. */
export interface LanPlan {
    gateway: string;
    prefixLength: number;
    members: LanMember[];
    /** The component's own host first, then the peers in the order given. */
    hosts: LanHost[];
    /** The VXLAN device every host gets, when there is more than one host. */
    vxlan?: { name: string; vni: number; dstPort: number };
    /** MTU of the LAN's links (bridges, veths, VXLAN devices): `mtu`, else, spanning hosts, what fits the tunnel (1450 on an IPv4 underlay, 1430 on IPv6); else left to the kernel. */
    mtu?: number;
}

function hash(text: string): bigint {
    return BigInt("0x" + createHash("sha256").update(text).digest("hex").slice(0, 15));
}

const hex5 = (text: string) => hash(text).toString(16).padStart(5, "0").slice(-5);

/** The arguments the schema validates: without `connection`, `sudo` and `adopt` (the component's and each peer's), which the resources made check. */
function lanArgs({ connection: _c, sudo: _s, adopt: _a, peers, ...rest }: BridgedNetworkArgs): Record<string, unknown> {
    if (peers === null || typeof peers !== "object" || Array.isArray(peers)) return { ...rest, peers };
    const strip = (h: unknown) => {
        if (h === null || typeof h !== "object") return h;
        const { connection: _pc, sudo: _ps, ...place } = h as Record<string, unknown>;
        return place;
    };
    return { ...rest, peers: Object.fromEntries(Object.entries(peers).map(([k, h]) => [k, strip(h)])) };
}

/** The parse failures of the LAN's arguments, as one message naming each property; undefined when they are valid. */
function lanProblems(args: BridgedNetworkArgs): string | undefined {
    const lan = lanArgs(args);
    const parsed = BridgedNetworkSchema.safeParse(lan);
    if (parsed.success) return undefined;
    return checkFailures(BridgedNetworkSchema, lan, parsed.error).map((f) => `${f.property}: ${f.reason}`).join("; ");
}

/**
 * Derives the LAN's plan from its arguments, running nothing: the gateway (default: the first host
 * address) and one address and host-side veth name per namespace. A namespace's address comes from a
 * hash of its name (or its pinned `address`), probing upward past taken addresses in list order, so
 * appending or removing other namespaces leaves it where it is (unless it had lost a hash collision
 * to a namespace removed later: pin `address` to rule that out); the host a namespace is on plays no
 * part, so moving it to another host keeps its address. Host-side veth names are the first 8
 * characters of the namespace and 5 hex digits of a hash of bridge and namespace (≤ 14 characters).
 * Spanning hosts: the hosts (the component's own first), and the VXLAN device each gets: named
 * `vx-` + 6 characters of the bridge + 5 hex digits, VNI `vxlan.vni` or one derived from bridge and
 * cidr (so two LANs over the same hosts differ), port `vxlan.dstPort` (4789).
 */
export function planLan(input: BridgedNetworkArgs): LanPlan {
    const args = BridgedNetworkSchema.parse(lanArgs(input));
    const net = parsePrefix(args.cidr) as Prefix;
    const family = net.family;
    const size = prefixSize(net);
    // Usable host indices: never the network address (IPv6: the subnet-router anycast address), nor IPv4's broadcast.
    const small = family === 4 && net.length >= 31;
    const first = small ? 0n : 1n;
    const last = family === 4 && !small ? size - 2n : size - 1n;
    const usable = last - first + 1n;
    const members = args.namespaces.map((m) => (typeof m === "string" ? { name: m } : m));
    const names = members.map((m) => m.name);
    const dup = names.find((n, i) => names.indexOf(n) !== i);
    if (dup) throw new Error(`namespaces: "${dup}" is listed twice (a name is the namespace's on every host of the LAN)`);
    if (BigInt(members.length + 1) > usable) {
        throw new Error(`cidr ${args.cidr} has ${usable} usable addresses, too few for the gateway and ${members.length} namespaces`);
    }
    const indexOf = (address: string, what: string): bigint => {
        const p = parsePrefix(address);
        const idx = p && p.family === family ? p.value - (net.value & ~(size - 1n)) : -1n;
        if (idx < first || idx > last) throw new Error(`${what}: ${address} is not a usable address of ${args.cidr}`);
        return idx;
    };
    const gateway = args.gateway ?? nthAddress(net, first);
    const taken = new Set<bigint>([indexOf(gateway, "gateway")]);
    const pinned = new Map<string, bigint>();
    for (const m of members) {
        if (!m.address) continue;
        const idx = indexOf(m.address, `namespaces.${m.name}.address`);
        if (taken.has(idx)) throw new Error(`namespaces.${m.name}.address: ${m.address} is already used on ${args.cidr}`);
        taken.add(idx);
        pinned.set(m.name, idx);
    }
    const hostNames = new Map<string, string>();
    const planned = members.map((m) => {
        let idx = pinned.get(m.name);
        if (idx === undefined) {
            idx = first + (hash(`${args.cidr}/${m.name}`) % usable);
            while (taken.has(idx)) idx = idx === last ? first : idx + 1n;
            taken.add(idx);
        }
        const hostVeth = `${m.name.slice(0, 8)}-${hex5(`${args.bridge}/${m.name}`)}`;
        const clash = hostNames.get(hostVeth);
        if (clash) throw new Error(`namespaces "${clash}" and "${m.name}" derive the same veth name ${hostVeth}: rename one`);
        hostNames.set(hostVeth, m.name);
        const own = m as { host?: string; rate?: string; burst?: string };
        const rate = own.rate ?? args.rate;
        const burst = own.burst ?? (own.rate === undefined ? args.burst : undefined);
        return { netns: m.name, address: nthAddress(net, idx), hostVeth, host: own.host, ...(rate === undefined ? {} : { rate }), ...(burst === undefined ? {} : { burst }) };
    });
    const peers = Object.entries(args.peers ?? {});
    const hosts: LanHost[] = [
        { key: undefined, underlay: args.underlay, underlayDevice: args.underlayDevice, gateway: args.gatewayHost === undefined },
        ...peers.map(([key, h]) => ({ key, underlay: h.underlay, underlayDevice: h.underlayDevice, gateway: args.gatewayHost === key })),
    ];
    if (hosts.length === 1) return { gateway, prefixLength: net.length, members: planned, hosts, ...(args.mtu === undefined ? {} : { mtu: args.mtu }) };
    const vxlan = {
        name: args.vxlan?.name ?? `vx-${args.bridge.slice(0, 6)}-${hex5(`vxlan/${args.bridge}`)}`,
        vni: args.vxlan?.vni ?? Number(1n + (hash(`vni/${args.bridge}/${args.cidr}`) % 16777215n)),
        dstPort: args.vxlan?.dstPort ?? 4789,
    };
    if (vxlan.name === args.bridge || hostNames.has(vxlan.name)) throw new Error(`vxlan.name: ${vxlan.name} is also the name of the bridge or of a member's veth: choose another`);
    const mtu = args.mtu ?? (addressFamily(args.underlay!) === 6 ? 1430 : 1450);
    return { gateway, prefixLength: net.length, members: planned, hosts, vxlan, mtu };
}

/** Where a connection leads, when it is known at construction ("this machine", "host:port"); undefined while it is an output. */
function endpointOf(c: unknown): string | undefined {
    if (c === undefined || c === null) return "this machine";
    if (pulumi.Output.isInstance(c) || typeof c !== "object") return undefined;
    const { host, port } = c as { host?: unknown; port?: unknown };
    return typeof host === "string" && (port === undefined || typeof port === "number") ? `${host}:${port ?? 22}` : undefined;
}

/**
 * A bridge LAN for any number of namespaces: a bridge holding the gateway address and, per
 * namespace, a Netns, a VethPair (`eth0` inside, the other end on the bridge, rate-limited with
 * `rate`) and a default Route via the gateway. With `nat`, forwarding is enabled and the LAN is
 * masqueraded out of the uplink; with `forward` (or `nat`), the FORWARD chain accepts
 * traffic from the bridge, as hosts whose FORWARD policy is DROP (Docker's) require.
 *
 * Spanning hosts (`peers`): every host gets the bridge and one VXLAN device on it whose flood list
 * is every other host's underlay (head-end replication). One device per host, not one point-to-point
 * device per peer: a full mesh of point-to-point ports on each bridge is a loop once there are three
 * hosts (a broadcast goes round it for ever), unless every such port is `isolated`; and the kernel
 * demultiplexes received VXLAN packets by VNI and port, so peers' devices would each need a VNI of
 * their own. A flood list has no loop (a frame from the tunnel is never sent back into it), one VNI,
 * and a host joining or leaving changes the others' lists in place. The gateway address and the NAT
 * and FORWARD rules are on `gatewayHost` only (default: the component's own host).
 *
 * Resource names stay those of a LAN on one host (`NAME-bridge`, `NAME-NS`, `NAME-NS-veth`,
 * `NAME-NS-default`, `NAME-from-lan`…), whichever host a namespace is on; a peer's bridge and
 * every host's VXLAN device are `NAME-PEER-bridge`, `NAME-vxlan` and `NAME-PEER-vxlan`.
 */
export class BridgedNetwork extends pulumi.ComponentResource {
    /** The bridge on the component's own host, e.g. for `dependsOn`. */
    readonly bridge: Bridge;
    /** The VXLAN device on the component's own host, when the LAN spans hosts. */
    readonly vxlan?: Vxlan;
    /** Per peer (by its name in `peers`): its bridge and VXLAN device. */
    readonly peers: Record<string, { bridge: Bridge; vxlan: Vxlan }> = {};
    /** Per namespace: its Netns, VethPair and default Route. */
    readonly members: Record<string, { netns: Netns; veth: VethPair; route: Route }> = {};
    readonly bridgeName: pulumi.Output<string>;
    readonly gateway: pulumi.Output<string>;
    /** Namespace → its address on the LAN (no prefix length). */
    readonly addresses: pulumi.Output<Record<string, string>>;
    /** The VNI joining the hosts' bridges (undefined on one host). */
    readonly vni: pulumi.Output<number | undefined>;

    constructor(name: string, args: BridgedNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("netns:index:BridgedNetwork", name, {}, opts);
        const { connection, sudo, adopt } = args;
        const why = lanProblems(args);
        if (why) throw new Error(`BridgedNetwork "${name}": ${why}`);
        let plan: LanPlan;
        try {
            plan = planLan(args);
        } catch (err) {
            throw new Error(`BridgedNetwork "${name}": ${(err as Error).message}`);
        }
        const a = BridgedNetworkSchema.parse(lanArgs(args));
        // Where each host's resources run (and adopt when the component does).
        const on = (key: HostKey) => (key === undefined ? { connection, sudo, adopt } : { connection: args.peers![key].connection, sudo: args.peers![key].sudo, adopt });
        const seen = new Map<string, string>([[endpointOf(connection) ?? "?", "the component's own host"]]);
        for (const key of Object.keys(args.peers ?? {})) {
            const at = endpointOf(args.peers![key].connection);
            if (at !== undefined && seen.has(at)) throw new Error(`BridgedNetwork "${name}": peers.${key}.connection: reaches ${at}, as ${seen.get(at)} does: each host of the LAN is another machine`);
            if (at !== undefined) seen.set(at, `peer "${key}"`);
        }
        // Resource names: a LAN on one host keeps those it always had; each must be unique.
        const resourceNames = new Map<string, string>();
        const resourceName = (suffix: string, what: string) => {
            const n = `${name}-${suffix}`;
            const clash = resourceNames.get(n);
            if (clash) throw new Error(`BridgedNetwork "${name}": ${clash} and ${what} would both be the resource "${n}": rename one`);
            resourceNames.set(n, what);
            return n;
        };
        const gatewayKey = plan.hosts.find((h) => h.gateway)!.key;
        const parent = { parent: this };
        const bridges = new Map<HostKey, Bridge>();
        for (const h of plan.hosts) {
            const what = h.key === undefined ? "the bridge" : `the bridge of peer "${h.key}"`;
            const addresses = h.gateway ? [`${plan.gateway}/${plan.prefixLength}`] : [];
            bridges.set(h.key, new Bridge(resourceName(h.key === undefined ? "bridge" : `${h.key}-bridge`, what), { ...on(h.key), name: a.bridge, addresses, mtu: plan.mtu }, parent));
        }
        this.bridge = bridges.get(undefined)!;
        if (plan.vxlan) {
            const vx = plan.vxlan;
            for (const h of plan.hosts) {
                const remotes = plan.hosts.filter((o) => o !== h).map((o) => o.underlay!);
                const what = h.key === undefined ? "the VXLAN device" : `the VXLAN device of peer "${h.key}"`;
                const tunnel = new Vxlan(
                    resourceName(h.key === undefined ? "vxlan" : `${h.key}-vxlan`, what),
                    { ...on(h.key), name: vx.name, vni: vx.vni, dstPort: vx.dstPort, local: h.underlay, remotes, device: h.underlayDevice, master: bridges.get(h.key)!.name, mtu: plan.mtu },
                    parent,
                );
                if (h.key === undefined) this.vxlan = tunnel;
                else this.peers[h.key] = { bridge: bridges.get(h.key)!, vxlan: tunnel };
            }
        }
        for (const m of plan.members) {
            const what = `namespace "${m.netns}"`;
            const ns = new Netns(resourceName(m.netns, what), { ...on(m.host), name: m.netns, dns: a.dns, hosts: a.hosts }, parent);
            // The pair and the route go with the namespace when both are deleted (its delete takes the pair along).
            const inNs = { ...parent, deletedWith: ns };
            const pair = new VethPair(
                resourceName(`${m.netns}-veth`, `the veth of ${what}`),
                {
                    ...on(m.host), name: m.hostVeth, master: bridges.get(m.host)!.name, peerName: "eth0", peerNetns: ns.name,
                    peerAddresses: [`${m.address}/${plan.prefixLength}`], mtu: plan.mtu, rate: m.rate, burst: m.burst,
                    // An IPv4 LAN on one host: its members send no IPv6 of their own, which the bridge would flood to every
                    // port. A LAN over VXLAN keeps it: a member moved to another host keeps its MAC, and its first packets
                    // (DAD, MLD) are what teach the bridges where it now is.
                    ipv6LinkLocal: addressFamily(plan.gateway) !== 4 || plan.vxlan !== undefined,
                },
                inNs,
            );
            const route = new Route(resourceName(`${m.netns}-default`, `the default route of ${what}`), { ...on(m.host), destination: "default", gateway: plan.gateway, netns: pair.peerNetns }, inNs);
            this.members[m.netns] = { netns: ns, veth: pair, route };
        }
        const gw = on(gatewayKey);
        const gwBridge = bridges.get(gatewayKey)!;
        const family = addressFamily(plan.gateway)!;
        if (a.forward || a.nat) {
            new ForwardRule(resourceName("from-lan", "the FORWARD rule from the LAN"), { ...gw, inInterface: gwBridge.name, family }, parent);
        }
        if (a.nat) {
            new SysctlForward(resourceName("forwarding", "the forwarding sysctl"), { ...gw, ipv4: family === 4, ipv6: family === 6 }, parent);
            new MasqueradeRule(resourceName("masquerade", "the MASQUERADE rule"), { ...gw, source: a.cidr, outInterface: a.nat.outInterface, excludeOutInterface: a.nat.excludeOutInterface }, parent);
            new ForwardRule(resourceName("to-lan", "the FORWARD rule to the LAN"), { ...gw, outInterface: gwBridge.name, established: true, family }, parent);
        }
        this.bridgeName = this.bridge.name;
        this.gateway = pulumi.output(plan.gateway);
        this.addresses = pulumi.output(Object.fromEntries(plan.members.map((m) => [m.netns, m.address])));
        this.vni = pulumi.output(plan.vxlan?.vni);
        // A LAN on one host registers the outputs it always did.
        this.registerOutputs({ bridgeName: this.bridgeName, gateway: this.gateway, addresses: this.addresses, ...(plan.vxlan ? { vni: this.vni } : {}) });
    }
}
