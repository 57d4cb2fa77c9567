import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { addressFamily, addressProblem, canonicalPrefix, hasHostBits, isMulticast, networkOf, parsePrefix, prefixSize } from "../core/ip";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { checkFamilies, inputKeys, IpAddress, NetnsName, Owner, TargetFields } from "../core/schema";
import { RulesOutputFields, ruleResourceProvider } from "../core/rule-provider";
import { Family, Rule } from "../linux/iptables";

const Port = (what: string) => z.number({ error: `${what} must be a port number` }).int(`${what} must be a whole number`).min(1, `${what} must be 1–65535`).max(65535, `${what} must be 1–65535`);

/**
 * The address traffic goes to: a host address inside a namespace, optionally with the prefix length
 * of its LAN ("192.168.50.2/24"), which turns on hairpin NAT for that LAN.
 */
const ToAddress = z
    .string()
    .superRefine((s, ctx) => {
        const why = addressProblem(s.split("/")[0], false) ?? (s.includes("/") ? addressProblem(s, true) : undefined);
        if (why) return void ctx.addIssue({ code: "custom", message: `must be a host address, optionally with its LAN's prefix length (192.168.50.2/24): ${why}` });
        const p = parsePrefix(s)!;
        const multicast = isMulticast(s.split("/")[0]);
        const unspecified = p.value === 0n;
        const edge = s.includes("/") && p.family === 4 && p.length < 31 && (!hasHostBits(p) || (p.value & (prefixSize(p) - 1n)) === prefixSize(p) - 1n);
        if (multicast || unspecified || edge) ctx.addIssue({ code: "custom", message: `${s} is not a host address (a network, broadcast, multicast or unspecified address)` });
    })
    .transform(canonicalPrefix);

/** Inputs of a {@link PortForward}, validated and with defaults filled. */
export const PortForwardSchema = z
    .object({
        protocol: z.enum(["tcp", "udp"], { error: 'must be "tcp" or "udp"' }),
        hostPort: Port("hostPort"),
        hostAddress: IpAddress.optional(),
        toAddress: ToAddress,
        toPort: Port("toPort").optional(),
        netns: NetnsName.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        checkFamilies(ctx, [["toAddress", a.toAddress.split("/")[0]], ["hostAddress", a.hostAddress]]);
    });
export type PortForwardSchema = z.infer<typeof PortForwardSchema>;

/** State of a {@link PortForward}: the inputs plus its rules as `iptables -S` lists them. */
export type PortForwardOutputs = PortForwardSchema & z.infer<typeof RulesOutputFields>;

const KEYS = inputKeys(PortForwardSchema);

/**
 * The rules of a forward, as `iptables -S` prints them, each carrying the owner comment:
 * `PREROUTING` (traffic from other hosts) and `OUTPUT` (from this host itself), both
 * `[-d HOST] -p PROTO [-m addrtype --dst-type LOCAL] -m PROTO --dport P -j DNAT --to-destination TO:PORT`
 * (addrtype without a hostAddress: every local address, as CNI's portmap does); with a LAN given in
 * `toAddress`, `POSTROUTING -s LAN -d TO -p PROTO -m conntrack --ctstate DNAT -m PROTO --dport PORT -j MASQUERADE`,
 * so a client on the target's own LAN gets its replies through the host (hairpin).
 */
export function portForwardRules(a: PortForwardSchema): Rule[] {
    const [to, lanLength] = a.toAddress.split("/");
    const family = addressFamily(to)!;
    const bits = family === 4 ? 32 : 128;
    const port = String(a.toPort ?? a.hostPort);
    const destination = family === 6 ? `[${to}]:${port}` : `${to}:${port}`;
    const match = [
        ...(a.hostAddress ? ["-d", `${a.hostAddress}/${bits}`] : []),
        "-p", a.protocol,
        ...(a.hostAddress ? [] : ["-m", "addrtype", "--dst-type", "LOCAL"]),
        "-m", a.protocol, "--dport", String(a.hostPort),
    ];
    const dnat = (chain: string): Rule => ({ family, table: "nat", chain, spec: [...match, "-j", "DNAT", "--to-destination", destination], comment: a.owner, netns: a.netns });
    const rules = [dnat("PREROUTING"), dnat("OUTPUT")];
    if (lanLength !== undefined) {
        const lan = networkOf(parsePrefix(a.toAddress)!);
        rules.push({
            family, table: "nat", chain: "POSTROUTING",
            spec: ["-s", lan, "-d", `${to}/${bits}`, "-p", a.protocol, "-m", "conntrack", "--ctstate", "DNAT", "-m", a.protocol, "--dport", port, "-j", "MASQUERADE"],
            comment: a.owner, netns: a.netns,
        });
    }
    return rules;
}

/**
 * The provider behind {@link PortForward}: a rule resource of several rules (core/rule-provider.ts),
 * each inserted first in its chain. check and diff run nothing, any change of the forward replaces
 * it, old rules first (they carry the same comment), and delete removes every rule of the chains
 * carrying the comment, so no DNAT is left to capture the port after teardown.
 */
export const portForwardProvider = ruleResourceProvider({
    schema: PortForwardSchema,
    keys: KEYS,
    toRules: portForwardRules,
    output: "rules",
    placement: "insert",
});

/** Arguments of {@link PortForward}. */
export interface PortForwardArgs extends TargetArgs {
    /** "tcp" or "udp". */
    protocol: pulumi.Input<string>;
    /** The host's port (1–65535). */
    hostPort: pulumi.Input<number>;
    /** Only traffic to this address of the host; omitted = every local address. */
    hostAddress?: pulumi.Input<string | undefined>;
    /** Where the traffic goes: an address inside a namespace; with its LAN's prefix length ("192.168.50.2/24"), hairpin traffic from that LAN works too. */
    toAddress: pulumi.Input<string>;
    /** The port there. Default: hostPort. */
    toPort?: pulumi.Input<number | undefined>;
    /** The namespace whose nat table holds the rules (the one acting as host). Default: the root namespace. */
    netns?: pulumi.Input<string | undefined>;
}

/** PortForward's outputs: every input as check normalised it, and what the kernel reports. */
export interface PortForward extends ResourceOutputs<PortForwardOutputs> {}

/**
 * Traffic to a port of the host reaches an address inside a namespace, from other hosts and from the
 * host itself, like CNI's portmap or Docker's `-p`. Equivalent to:
 * `iptables -t nat -I PREROUTING 1 [-d HOST] -p tcp [-m addrtype --dst-type LOCAL] -m tcp --dport P -m comment --comment OWNER -j DNAT --to-destination TO:PORT`,
 * the same in OUTPUT, and with a LAN a hairpin MASQUERADE in POSTROUTING. Outputs `family` and `rules`.
 */
export class PortForward extends pulumi.CustomResource {
    constructor(name: string, args: PortForwardArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("PortForward", name, args, KEYS, inputKeys(RulesOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
