import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { diffInputs } from "../core/diff";
import { canonicalPrefix, parsePrefix } from "../core/ip";
import { resourceOwner } from "../core/owner";
import { checkWith, IfName, isUnknown, NetnsName, Network, Owner, stripUndefined, withoutProvider } from "../core/schema";
import { providerFor } from "../core/shim";
import { ensureRule, Family, formatRule, isSameRule, readOwnedRule, removeOwnedRules, Rule } from "../linux/iptables";

/** Inputs of a {@link MasqueradeRule}, validated and normalised (networks in the kernel's canonical form). */
export const MasqueradeRuleArgs = z
    .object({
        source: Network.transform(canonicalPrefix),
        outInterface: IfName.optional(),
        excludeOutInterface: IfName.optional(),
        destination: Network.transform(canonicalPrefix).optional(),
        netns: NetnsName.optional(),
        owner: Owner,
    })
    .strict()
    .superRefine((a, ctx) => {
        if (a.outInterface !== undefined && a.excludeOutInterface !== undefined) {
            ctx.addIssue({ code: "custom", path: ["excludeOutInterface"], message: "outInterface and excludeOutInterface are mutually exclusive (give at most one)" });
        }
        if (a.destination !== undefined && parsePrefix(a.destination)?.family !== parsePrefix(a.source)?.family) {
            ctx.addIssue({ code: "custom", path: ["destination"], message: "must be of the same address family (IPv4 or IPv6) as source" });
        }
    });
export type MasqueradeRuleArgs = z.infer<typeof MasqueradeRuleArgs>;

/** State of a {@link MasqueradeRule}: the inputs, the address family and the rule as `iptables -S` lists it. */
export interface MasqueradeRuleOutputs extends MasqueradeRuleArgs {
    family: Family;
    rule: string;
}

const KEYS = ["source", "outInterface", "excludeOutInterface", "destination", "netns", "owner"] as const;
/** A rule cannot be edited in place: any change but the owner's is a replacement. */
const REPLACE_KEYS = KEYS.filter((k) => k !== "owner");

/** `-s SRC/N` etc.; a /0 network is left out, as iptables leaves it out of its listing. */
export function networkMatch(flag: "-s" | "-d", network: string | undefined): string[] {
    return network === undefined || parsePrefix(network)?.length === 0 ? [] : [flag, network];
}

/** The iptables rule of a MasqueradeRule (arguments in the order `iptables -S` prints them). */
export function masqueradeRule(a: MasqueradeRuleArgs): Rule {
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

function outputs(a: MasqueradeRuleArgs, rule?: string): MasqueradeRuleOutputs {
    const r = masqueradeRule(a);
    return stripUndefined({ ...a, family: r.family, rule: rule ?? formatRule(r) });
}

const args = (props: Record<string, unknown>) => MasqueradeRuleArgs.parse(withoutProvider(props));

/**
 * The provider behind {@link MasqueradeRule}. Replacements delete the old rule first
 * (`deleteBeforeReplace`): old and new rule carry the same owner comment, and deleting
 * by comment must not take the new one along.
 */
export const masqueradeRuleProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkWith(MasqueradeRuleArgs, news);
    },

    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, KEYS, REPLACE_KEYS);
        // A rule altered by hand (found by read) is put back by a replacement.
        const known = KEYS.every((k) => !isUnknown(news[k]));
        if (known && typeof olds.rule === "string" && !isSameRule(olds.rule, masqueradeRule(args(news)))) {
            changed.push("rule");
            replaces.push("rule");
        }
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
    },

    /** Appends to POSTROUTING (after any SNAT a person put first); adopts exactly this rule when present. */
    async create(inputs) {
        const a = args(inputs);
        await ensureRule(masqueradeRule(a), "append");
        return { id: a.owner, outs: outputs(a) };
    },

    async read(id, props) {
        const a = args(stripOutputs(props));
        const found = await readOwnedRule(masqueradeRule(a));
        return found === undefined ? { id: "", props: {} } : { id, props: outputs(a, found) };
    },

    /** Only an owner change gets here: add the rule with the new comment, then delete the old one. */
    async update(_id, olds, news) {
        const a = args(news);
        const rule = masqueradeRule(a);
        await ensureRule(rule, "append");
        await removeOwnedRules(masqueradeRule(args(stripOutputs(olds))), rule);
        return { outs: outputs(a) };
    },

    async delete(_id, props) {
        await removeOwnedRules(masqueradeRule(args(stripOutputs(props))));
    },
};

/** The inputs part of a state (outputs without `family` and `rule`). */
function stripOutputs(props: Record<string, unknown>): Record<string, unknown> {
    const { family, rule, ...rest } = props;
    return rest;
}

/** Arguments of {@link MasqueradeRule}. */
export interface MasqueradeRuleInputs {
    /** The private network whose traffic is masqueraded, e.g. "192.168.50.0/24" (IPv6 → ip6tables). */
    source: pulumi.Input<string>;
    /** Masquerade only traffic leaving through this interface (`-o`), e.g. the uplink. */
    outInterface?: pulumi.Input<string>;
    /** Masquerade traffic leaving through any interface but this one (`! -o`); exclusive with outInterface. */
    excludeOutInterface?: pulumi.Input<string>;
    /** Masquerade only traffic to this network (`-d`), of the same family as source. */
    destination?: pulumi.Input<string>;
    /** The namespace whose nat table holds the rule. Default: the root namespace. */
    netns?: pulumi.Input<string>;
}

/**
 * Source NAT to the outgoing interface's address. Equivalent to:
 * `iptables -t nat -A POSTROUTING -s SOURCE [-d DEST] [-o IF | ! -o IF] -m comment --comment OWNER -j MASQUERADE`
 * (`ip netns exec NS` first when netns is given; `ip6tables` for IPv6). Outputs `family` and
 * `rule` (the rule as `iptables -S` lists it: a hand edit shows up there at refresh).
 */
export class MasqueradeRule extends pulumi.dynamic.Resource {
    declare readonly source: pulumi.Output<string>;
    declare readonly outInterface: pulumi.Output<string | undefined>;
    declare readonly excludeOutInterface: pulumi.Output<string | undefined>;
    declare readonly destination: pulumi.Output<string | undefined>;
    declare readonly netns: pulumi.Output<string | undefined>;
    declare readonly owner: pulumi.Output<string>;
    declare readonly family: pulumi.Output<Family>;
    declare readonly rule: pulumi.Output<string>;

    constructor(name: string, args: MasqueradeRuleInputs, opts?: pulumi.CustomResourceOptions) {
        super(
            providerFor("MasqueradeRule"),
            name,
            { ...args, owner: resourceOwner("MasqueradeRule", name), family: undefined, rule: undefined },
            opts,
            "netns",
            "MasqueradeRule",
        );
    }
}
