import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parsePrefix } from "../core/ip";
import { checkFamilies, IfName, inputKeys, NetnsName, Network, Owner, TargetFields } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { Family, networkMatch, Rule } from "../linux/iptables";
import { RuleOutputFields, ruleResourceProvider } from "../core/rule-provider";

/** Inputs of a {@link ForwardRule}, validated and normalised (networks in the kernel's canonical form). */
export const ForwardRuleSchema = z
    .object({
        inInterface: IfName.optional(),
        outInterface: IfName.optional(),
        source: Network.optional(),
        destination: Network.optional(),
        established: z.boolean().default(false),
        family: z.union([z.literal(4), z.literal(6)], { error: "must be 4 or 6" }).optional(),
        netns: NetnsName.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        if (!a.inInterface && !a.outInterface && !a.source && !a.destination && !a.established) {
            ctx.addIssue({
                code: "custom",
                path: [],
                message: "give at least one of inInterface, outInterface, source, destination, established (a rule without a match would accept all forwarded traffic)",
            });
        }
        checkFamilies(ctx, [["source", a.source], ["destination", a.destination]], a.family);
    });
export type ForwardRuleSchema = z.infer<typeof ForwardRuleSchema>;

const KEYS = inputKeys(ForwardRuleSchema);

/** The family of a ForwardRule: the given one, else its networks', else IPv4. */
function familyOf(a: ForwardRuleSchema): Family {
    return a.family ?? parsePrefix(a.source ?? a.destination ?? "0.0.0.0/0")!.family;
}

/** The iptables rule of a ForwardRule (arguments in the order `iptables -S` prints them). */
export function forwardRule(a: ForwardRuleSchema): Rule {
    return {
        family: familyOf(a),
        table: "filter",
        chain: "FORWARD",
        spec: [
            ...networkMatch("-s", a.source),
            ...networkMatch("-d", a.destination),
            ...(a.inInterface ? ["-i", a.inInterface] : []),
            ...(a.outInterface ? ["-o", a.outInterface] : []),
            ...(a.established ? ["-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"] : []),
            "-j", "ACCEPT",
        ],
        comment: a.owner,
        netns: a.netns,
    };
}

/**
 * The provider behind {@link ForwardRule} (see {@link ruleResourceProvider}). The rule is
 * inserted first in FORWARD (`-I FORWARD 1`), so that it takes effect on hosts whose FORWARD
 * policy is DROP and whose FORWARD chain already ends in rejects (e.g. Docker's chains).
 */
export const forwardRuleProvider = ruleResourceProvider({
    schema: ForwardRuleSchema,
    keys: KEYS,
    computedWhenOmitted: ["family"],
    toRules: (a) => [forwardRule(a)],
    output: "rule",
    placement: "insert",
});

/** Arguments of {@link ForwardRule}. Give at least one match. */
export interface ForwardRuleArgs extends TargetArgs {
    /** Accept packets arriving on this interface (`-i`), e.g. a bridge. */
    inInterface?: pulumi.Input<string | undefined>;
    /** Accept packets leaving through this interface (`-o`). */
    outInterface?: pulumi.Input<string | undefined>;
    /** Accept packets from this network (`-s`). */
    source?: pulumi.Input<string | undefined>;
    /** Accept packets to this network (`-d`). */
    destination?: pulumi.Input<string | undefined>;
    /** Accept only replies and related traffic (`-m conntrack --ctstate RELATED,ESTABLISHED`). Default: false. */
    established?: pulumi.Input<boolean | undefined>;
    /** 4 (iptables) or 6 (ip6tables). Default: the family of source/destination, else 4. */
    family?: pulumi.Input<number | undefined>;
    /** The namespace whose filter table holds the rule. Default: the root namespace. */
    netns?: pulumi.Input<string | undefined>;
}

/** ForwardRule's outputs: every input as check normalised it, and what the kernel reports. */
export interface ForwardRule extends ResourceOutputs<ForwardRuleSchema & z.infer<typeof RuleOutputFields>> {}

/**
 * Accepts forwarded traffic. Equivalent to:
 * `iptables -I FORWARD 1 [-s SRC] [-d DST] [-i IN] [-o OUT] [-m conntrack --ctstate RELATED,ESTABLISHED] -m comment --comment OWNER -j ACCEPT`
 * (`ip netns exec NS` first when netns is given; `ip6tables` for IPv6). Outputs `family` and
 * `rule` (the rule as `iptables -S` lists it: a hand edit shows up there at refresh).
 */
export class ForwardRule extends pulumi.CustomResource {
    constructor(name: string, args: ForwardRuleArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("ForwardRule", name, args, KEYS, inputKeys(RuleOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
