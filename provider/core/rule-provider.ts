import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { diffInputs, diffResult } from "./diff";
import { FamilyField, stripUndefined, withoutProvider, type Connection } from "./schema";
import { targetId, targetOf } from "../linux/target";
import { adoptRule, ensureRule, Family, formatRule, isSameRule, Placement, readOwnedRule, removeOwnedRules, Rule } from "../linux/iptables";
import { withSchema } from "./defaults";

/** What every rule resource's inputs hold: its owner token, and where its commands run. */
type Owned = { owner: string; connection?: Connection; sudo?: boolean; adopt?: boolean };

/** What a rule resource declares: its schema, its input keys, how its inputs make its rules, and where they go. */
export interface RuleResourceSpec<A extends Owned> {
    schema: z.ZodType<A> & z.ZodObject;
    keys: readonly (keyof A & string)[];
    /** Optional inputs left alone by diff when omitted (their output is computed, e.g. ForwardRule's `family`). */
    computedWhenOmitted?: readonly (keyof A & string)[];
    /** The resource's rules: one (output `rule`), or several (output `rules`, e.g. a port forward's DNATs and hairpin). */
    toRules(args: A): Rule[];
    output: "rule" | "rules";
    /** Where a new rule goes: always the same, or as the inputs say. */
    placement: Placement | ((args: A) => Placement);
}

/** What a rule resource of one rule outputs besides its inputs: the rule's address family, and the rule as `iptables -S` lists it. */
export const RuleOutputFields = z.object({ family: FamilyField, rule: z.string() });
/** What a rule resource of several rules outputs besides its inputs: their address family, and the rules as `iptables -S` lists them. */
export const RulesOutputFields = z.object({ family: FamilyField, rules: z.array(z.string()) });

/** State of a rule resource: its inputs, the rules' address family, and its rules as `iptables -S` lists them. */
export type RuleOutputs<A> = A & ({ family: Family; rule: string } | { family: Family; rules: string[] });

/**
 * The provider of a rule resource (one rule or several). check and diff run nothing. Any change but
 * the owner's is a replacement, done delete-first (`deleteBeforeReplace`): the old and the new rules
 * carry the same owner comment, so the old ones must be gone before the new ones are added. A rule
 * found altered by hand at read shows in the `rule`/`rules` output, and the next diff replaces it.
 * A create failing half-way removes the rules it added. Delete removes every rule carrying the owner
 * comment in the resource's chains (never any other rule, never a flush or policy change).
 */
export function ruleResourceProvider<A extends Owned>(r: RuleResourceSpec<A>): pulumi.dynamic.ResourceProvider {
    const parse = (props: Record<string, unknown>): A => {
        const { family: _f, [r.output]: _r, ...rest } = withoutProvider(props);
        // `family` is an input of some rules (ForwardRule) and an output of all: keep it when it is an input.
        return r.schema.parse(r.keys.includes("family" as keyof A & string) ? { ...rest, family: _f } : rest);
    };
    const placement = (a: A) => (typeof r.placement === "function" ? r.placement(a) : r.placement);
    /** The outputs, with the rules as the kernel lists them (`listed`), else as they are made. */
    const outputs = (a: A, listed?: string[]): RuleOutputs<A> => {
        const rules = r.toRules(a);
        const lines = listed ?? rules.map(formatRule);
        return stripUndefined({ ...a, family: rules[0].family, [r.output]: r.output === "rule" ? lines[0] : lines }) as unknown as RuleOutputs<A>;
    };
    return withSchema(r.schema, {
        async diff(_id, olds, news) {
            const replaceKeys = r.keys.filter((k) => k !== "owner");
            const { changed, replaces } = diffInputs(olds, news, { keys: r.keys, replace: replaceKeys, unmanagedWhenOmitted: r.computedWhenOmitted });
            // Drift found by read: the kernel's rules (olds.rule or olds.rules) are not the ones the old inputs make.
            const listed = olds[r.output];
            if (listed !== undefined) {
                const lines = Array.isArray(listed) ? listed : [listed];
                const rules = r.toRules(parse(olds));
                if (lines.length !== rules.length || !rules.every((rule, i) => typeof lines[i] === "string" && isSameRule(lines[i], rule))) {
                    changed.push(r.output);
                    replaces.push(r.output);
                }
            }
            return diffResult(changed, replaces);
        },

        async create(inputs) {
            const a = parse(inputs);
            const t = targetOf(a);
            const rules = r.toRules(a);
            const adopted: Rule[] = [];
            try {
                for (const rule of rules) {
                    // adopt: the same rule without our comment (a script's) is taken over in its place; else ours is added.
                    if (a.adopt && (await adoptRule(t, rule))) adopted.push(rule);
                    else await ensureRule(t, rule, placement(a));
                }
            } catch (err) {
                // A failure half-way leaves none of the rules this call added; an adopted one keeps its comment (its
                // original is gone), so the next create takes it back as its own.
                for (const rule of rules) if (!adopted.includes(rule)) await removeOwnedRules(t, rule);
                throw err;
            }
            return { id: targetId(t, a.owner), outs: outputs(a) };
        },

        /** Gone when none of its rules is there; one missing or altered shows in the outputs (drift). */
        async read(id, props) {
            const a = parse(props);
            const t = targetOf(a);
            const listed = await Promise.all(r.toRules(a).map((rule) => readOwnedRule(t, rule)));
            if (listed.every((l) => l === undefined)) return { id: "", props: {} };
            return { id, props: outputs(a, listed.filter((l): l is string => l !== undefined)) };
        },

        /** Only a change of owner, sudo or connection (same host) gets here: add the rules with the new comment, then delete the old ones. */
        async update(_id, olds, news) {
            const a = parse(news);
            const t = targetOf(a);
            const kept = r.toRules(a);
            for (const rule of kept) await ensureRule(t, rule, placement(a));
            for (const [i, rule] of r.toRules(parse(olds)).entries()) await removeOwnedRules(t, rule, kept[i]);
            return { outs: outputs(a) };
        },

        async delete(_id, props) {
            const a = parse(props);
            const t = targetOf(a);
            for (const rule of r.toRules(a)) await removeOwnedRules(t, rule);
        },
    });
}
