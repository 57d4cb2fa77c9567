import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parsePrefix } from "../core/ip";
import { checkFamilies, IfName, inputKeys, NetnsName, Network, Owner, TargetFields } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { Family, networkMatch, Rule } from "../linux/iptables";
import { RuleOutputFields, ruleResourceProvider } from "../core/rule-provider";

/** Inputs of a {@link MasqueradeRule}, validated and normalised (networks in the kernel's canonical form). */
export const MasqueradeRuleSchema = z
    .object({
        source: Network,
        outInterface: IfName.optional(),
        excludeOutInterface: IfName.optional(),
        destination: Network.optional(),
        netns: NetnsName.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        if (a.outInterface !== undefined && a.excludeOutInterface !== undefined) {
            ctx.addIssue({ code: "custom", path: ["excludeOutInterface"], message: "outInterface and excludeOutInterface are mutually exclusive (give at most one)" });
        }
        checkFamilies(ctx, [["source", a.source], ["destination", a.destination]]);
    });
export type MasqueradeRuleSchema = z.infer<typeof MasqueradeRuleSchema>;

const KEYS = inputKeys(MasqueradeRuleSchema);

/** The iptables rule of a MasqueradeRule (arguments in the order `iptables -S` prints them). */
export function masqueradeRule(a: MasqueradeRuleSchema): Rule {
    return {
        family: parsePrefix(a.source)!.family,
        table: "nat",
        chain: "POSTROUTING",
        spec: [
            ...networkMatch("-s", a.source),
            ...networkMatch("-d", a.destination),
            ...(a.outInterface ? ["-o", a.outInterface] : []),
            ...(a.excludeOutInterface ? ["!", "-o", a.excludeOutInterface] : []),
            "-j", "MASQUERADE",
        ],
        comment: a.owner,
        netns: a.netns,
    };
}

/**
 * The provider behind {@link MasqueradeRule} (see {@link ruleResourceProvider}). The rule is
 * appended to POSTROUTING: NAT rules a person put there first keep precedence.
 */
export const masqueradeRuleProvider = ruleResourceProvider({
    schema: MasqueradeRuleSchema,
    keys: KEYS,
    toRules: (a) => [masqueradeRule(a)],
    output: "rule",
    placement: "append",
});

/** Arguments of {@link MasqueradeRule}. */
export interface MasqueradeRuleArgs extends TargetArgs {
    /** The private network whose traffic is masqueraded, e.g. "192.168.50.0/24" (IPv6 → ip6tables). */
    source: pulumi.Input<string>;
    /** Masquerade only traffic leaving through this interface (`-o`), e.g. the uplink. */
    outInterface?: pulumi.Input<string | undefined>;
    /** Masquerade traffic leaving through any interface but this one (`! -o`); exclusive with outInterface. */
    excludeOutInterface?: pulumi.Input<string | undefined>;
    /** Masquerade only traffic to this network (`-d`), of the same family as source. */
    destination?: pulumi.Input<string | undefined>;
    /** The namespace whose nat table holds the rule. Default: the root namespace. */
    netns?: pulumi.Input<string | undefined>;
}

/** MasqueradeRule's outputs: every input as check normalised it, and what the kernel reports. */
export interface MasqueradeRule extends ResourceOutputs<MasqueradeRuleSchema & z.infer<typeof RuleOutputFields>> {}

/**
 * Source NAT to the outgoing interface's address. Equivalent to:
 * `iptables -t nat -A POSTROUTING -s SOURCE [-d DEST] [-o IF | ! -o IF] -m comment --comment OWNER -j MASQUERADE`
 * (`ip netns exec NS` first when netns is given; `ip6tables` for IPv6). Outputs `family` and
 * `rule` (the rule as `iptables -S` lists it: a hand edit shows up there at refresh).
 */
export class MasqueradeRule extends pulumi.CustomResource {
    constructor(name: string, args: MasqueradeRuleArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("MasqueradeRule", name, args, KEYS, inputKeys(RuleOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
