import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { diffInputs, diffResult } from "./diff";
import { checkWith, stripUndefined, withoutProvider, type Connection } from "./schema";
import { targetId, targetOf } from "../linux/target";
import { adoptRule, ensureRule, Family, formatRule, isSameRule, Placement, readOwnedRule, removeOwnedRules, Rule } from "../linux/iptables";

/** What every rule resource's inputs hold: its owner token, and where its commands run. */
type Owned = { owner: string; connection?: Connection; sudo?: boolean; adopt?: boolean };

/** What a rule resource declares: its schema, its input keys, how its inputs make a rule, and where the rule goes. */
export interface RuleResourceSpec<A extends Owned> {
    schema: z.ZodType<A> & z.ZodObject;
    keys: readonly (keyof A & string)[];
    /** Optional inputs left alone by diff when omitted (their output is computed, e.g. ForwardRule's `family`). */
    computedWhenOmitted?: readonly (keyof A & string)[];
    toRule(args: A): Rule;
    /** Where a new rule goes: always the same, or as the inputs say. */
    placement: Placement | ((args: A) => Placement);
}

/** State of a rule resource: its inputs, the rule's address family, and the rule as `iptables -S` lists it. */
export type RuleOutputs<A> = A & { family: Family; rule: string };

/**
 * The provider of a rule resource. check and diff run nothing. Any change but the owner's is a
 * replacement, done delete-first (`deleteBeforeReplace`): the old and the new rule carry the same
 * owner comment, so the old one must be gone before the new one is added. A rule found altered
 * by hand at read shows in the `rule` output, and the next diff replaces it. Delete removes every
 * rule carrying the owner comment (never any other rule, never a flush or policy change).
 */
export function ruleResourceProvider<A extends Owned>(r: RuleResourceSpec<A>): pulumi.dynamic.ResourceProvider {
    const parse = (props: Record<string, unknown>): A => {
        const { family: _f, rule: _r, ...rest } = withoutProvider(props);
        // `family` is an input of some rules (ForwardRule) and an output of all: keep it when it is an input.
        return r.schema.parse(r.keys.includes("family" as keyof A & string) ? { ...rest, family: _f } : rest);
    };
    const placement = (a: A) => (typeof r.placement === "function" ? r.placement(a) : r.placement);
    const outputs = (a: A, listed?: string): RuleOutputs<A> => {
        const rule = r.toRule(a);
        return stripUndefined({ ...a, family: rule.family, rule: listed ?? formatRule(rule) });
    };
    return {
        async check(_olds, news) {
            return checkWith(r.schema, news);
        },

        async diff(_id, olds, news) {
            const replaceKeys = r.keys.filter((k) => k !== "owner");
            const { changed, replaces } = diffInputs(olds, news, { keys: r.keys, replace: replaceKeys, unmanagedWhenOmitted: r.computedWhenOmitted });
            // Drift found by read: the kernel's rule (olds.rule) is not the one the old inputs make.
            if (typeof olds.rule === "string" && !isSameRule(olds.rule, r.toRule(parse(olds)))) {
                changed.push("rule");
                replaces.push("rule");
            }
            return diffResult(changed, replaces);
        },

        async create(inputs) {
            const a = parse(inputs);
            const t = targetOf(a);
            // adopt: the same rule without our comment (a script's) is taken over in its place; else ours is added.
            if (!(a.adopt && (await adoptRule(t, r.toRule(a))))) await ensureRule(t, r.toRule(a), placement(a));
            return { id: targetId(t, a.owner), outs: outputs(a) };
        },

        async read(id, props) {
            const a = parse(props);
            const listed = await readOwnedRule(targetOf(a), r.toRule(a));
            return listed === undefined ? { id: "", props: {} } : { id, props: outputs(a, listed) };
        },

        /** Only a change of owner, sudo or connection (same host) gets here: add the rule with the new comment, then delete the old one. */
        async update(_id, olds, news) {
            const a = parse(news);
            const t = targetOf(a);
            const rule = r.toRule(a);
            await ensureRule(t, rule, placement(a));
            await removeOwnedRules(t, r.toRule(parse(olds)), rule);
            return { outs: outputs(a) };
        },

        async delete(_id, props) {
            const a = parse(props);
            await removeOwnedRules(targetOf(a), r.toRule(a));
        },
    };
}
