import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { addressFamily, nthAddress, parsePrefix, Prefix, prefixSize } from "../core/ip";
import type { TargetInputs } from "../core/resource";
import { checkFailures, IfName, IpAddress, NetnsName, Network } from "../core/schema";
import { Bridge } from "../resources/bridge";
import { ForwardRule } from "../resources/forward";
import { MasqueradeRule } from "../resources/masquerade";
import { DnsArgs, HostsArgs, Netns } from "../resources/netns";
import { Route } from "../resources/route";
import { SysctlForward } from "../resources/sysctl";
import { VethPair } from "../resources/veth";

/** One namespace on the LAN: its name, and optionally a pinned address. */
const Member = z.union([NetnsName, z.object({ name: NetnsName, address: IpAddress.optional() }).strict()]);

/** Arguments of {@link BridgedNetwork}, validated when the program runs (so `pulumi preview` reports them). */
export const BridgedNetworkArgs = z
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
        dns: DnsArgs.optional(),
        /** Every namespace's hosts file (`Netns.hosts`). */
        hosts: HostsArgs.optional(),
    })
    .strict();
/** Arguments of {@link BridgedNetwork}: the LAN's plan, and where (and how) every resource of it runs. */
export type BridgedNetworkArgs = z.input<typeof BridgedNetworkArgs> & TargetInputs;

/** A namespace's place on the LAN. */
export interface LanMember {
    netns: string;
    /** Address inside the namespace, without prefix length. */
    address: string;
    /** Name of the host-side veth end (on the bridge). */
    hostVeth: string;
}

function hash(text: string): bigint {
    return BigInt("0x" + createHash("sha256").update(text).digest("hex").slice(0, 15));
}

/**
 * Derives the LAN's plan from its arguments, running nothing: the gateway (default: the first host
 * address) and one address and host-side veth name per namespace. A namespace's address comes from a
 * hash of its name (or its pinned `address`), probing upward past taken addresses in list order, so
 * appending or removing other namespaces leaves it where it is (unless it had lost a hash collision
 * to a namespace removed later: pin `address` to rule that out). Host-side veth names are the first
 * 8 characters of the namespace and 5 hex digits of a hash of bridge and namespace (≤ 14 characters).
 */
export function planLan({ connection: _c, sudo: _s, adopt: _a, ...input }: BridgedNetworkArgs): { gateway: string; prefixLength: number; members: LanMember[] } {
    const args = BridgedNetworkArgs.parse(input);
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
    if (dup) throw new Error(`namespaces: "${dup}" is listed twice`);
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
        const hostVeth = `${m.name.slice(0, 8)}-${hash(`${args.bridge}/${m.name}`).toString(16).padStart(5, "0").slice(-5)}`;
        const clash = hostNames.get(hostVeth);
        if (clash) throw new Error(`namespaces "${clash}" and "${m.name}" derive the same veth name ${hostVeth}: rename one`);
        hostNames.set(hostVeth, m.name);
        return { netns: m.name, address: nthAddress(net, idx), hostVeth };
    });
    return { gateway, prefixLength: net.length, members: planned };
}

/**
 * Seed 004's bridge LAN for any number of namespaces: a bridge holding the gateway address and, per
 * namespace, a Netns, a VethPair (`eth0` inside, the other end on the bridge) and a default Route via
 * the gateway. With `nat`, forwarding is enabled and the LAN is masqueraded out of the uplink (seed 001);
 * with `forward` (or `nat`), the FORWARD chain accepts traffic from the bridge, as hosts whose FORWARD
 * policy is DROP (Docker's) require.
 */
export class BridgedNetwork extends pulumi.ComponentResource {
    /** The bridge, e.g. for `dependsOn`. */
    readonly bridge: Bridge;
    /** Per namespace: its Netns, VethPair and default Route. */
    readonly members: Record<string, { netns: Netns; veth: VethPair; route: Route }> = {};
    readonly bridgeName: pulumi.Output<string>;
    readonly gateway: pulumi.Output<string>;
    /** Namespace → its address on the LAN (no prefix length). */
    readonly addresses: pulumi.Output<Record<string, string>>;

    constructor(name: string, args: BridgedNetworkArgs, opts?: pulumi.ComponentResourceOptions) {
        super("netns:index:BridgedNetwork", name, {}, opts);
        const { connection, sudo, adopt, ...lan } = args;
        const parsed = BridgedNetworkArgs.safeParse(lan);
        if (!parsed.success) {
            const why = checkFailures(BridgedNetworkArgs, lan, parsed.error).map((f) => `${f.property}: ${f.reason}`).join("; ");
            throw new Error(`BridgedNetwork "${name}": ${why}`);
        }
        let plan: ReturnType<typeof planLan>;
        try {
            plan = planLan(args);
        } catch (err) {
            throw new Error(`BridgedNetwork "${name}": ${(err as Error).message}`);
        }
        const a = parsed.data;
        const parent = { parent: this };
        const on = { connection, sudo, adopt }; // every child runs where the component does (and adopts when it does)
        const bridge = (this.bridge = new Bridge(`${name}-bridge`, { ...on, name: a.bridge, addresses: [`${plan.gateway}/${plan.prefixLength}`] }, parent));
        for (const m of plan.members) {
            const ns = new Netns(`${name}-${m.netns}`, { ...on, name: m.netns, dns: a.dns, hosts: a.hosts }, parent);
            // The pair and the route go with the namespace when both are deleted (its delete takes the pair along).
            const inNs = { ...parent, deletedWith: ns };
            const pair = new VethPair(
                `${name}-${m.netns}-veth`,
                { ...on, name: m.hostVeth, master: bridge.name, peerName: "eth0", peerNetns: ns.name, peerAddresses: [`${m.address}/${plan.prefixLength}`] },
                inNs,
            );
            const route = new Route(`${name}-${m.netns}-default`, { ...on, destination: "default", gateway: plan.gateway, netns: pair.peerNetns }, inNs);
            this.members[m.netns] = { netns: ns, veth: pair, route };
        }
        if (a.forward || a.nat) {
            new ForwardRule(`${name}-from-lan`, { ...on, inInterface: bridge.name, family: addressFamily(plan.gateway) }, parent);
        }
        if (a.nat) {
            const family = addressFamily(plan.gateway)!;
            new SysctlForward(`${name}-forwarding`, { ...on, ipv4: family === 4, ipv6: family === 6 }, parent);
            new MasqueradeRule(`${name}-masquerade`, { ...on, source: a.cidr, outInterface: a.nat.outInterface, excludeOutInterface: a.nat.excludeOutInterface }, parent);
            new ForwardRule(`${name}-to-lan`, { ...on, outInterface: bridge.name, established: true, family }, parent);
        }
        this.bridgeName = bridge.name;
        this.gateway = pulumi.output(plan.gateway);
        this.addresses = pulumi.output(Object.fromEntries(plan.members.map((m) => [m.netns, m.address])));
        this.registerOutputs({ bridgeName: this.bridgeName, gateway: this.gateway, addresses: this.addresses });
    }
}
