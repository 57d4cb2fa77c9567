import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { assertAdoptable, differences } from "../core/adopt";
import { diffInputs, diffResult, inNamespace } from "../core/diff";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { inputKeys, NetnsName, Owner, stripUndefined, TargetFields, withoutProvider } from "../core/schema";
import { Family, getChainPolicy, iptablesTool, Policy, POLICY_CHAINS, PolicyTable, setChainPolicy } from "../linux/iptables";
import { readOwnMarker, removeMarker, writeMarker } from "../linux/marker";
import { netnsId } from "../linux/netns";
import { Target, targetId, targetOf } from "../linux/target";
import { withSchema } from "../core/defaults";

const TABLES = Object.keys(POLICY_CHAINS) as PolicyTable[];

/** Inputs of a {@link ChainPolicy}, validated and with defaults filled. */
export const ChainPolicySchema = z
    .object({
        chain: z.string({ error: 'must be the name of a built-in chain, e.g. "FORWARD"' }),
        table: z
            .enum(TABLES as [PolicyTable, ...PolicyTable[]], {
                error: (iss) =>
                    iss.input === "nat"
                        ? 'the nat table\'s chains take no DROP policy (iptables: "not intended for filtering"): drop in the filter table (the default), or mangle, raw or security'
                        : `must be one of ${TABLES.join(", ")}`,
            })
            .default("filter"),
        policy: z.enum(["ACCEPT", "DROP"], { error: 'must be "ACCEPT" or "DROP" (upper case, as iptables takes it)' }),
        family: z.union([z.literal(4), z.literal(6)], { error: "must be 4 (iptables) or 6 (ip6tables)" }).default(4),
        netns: NetnsName.optional(),
        restoreOnDelete: z.boolean().default(true),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        const chains: readonly string[] = POLICY_CHAINS[a.table];
        if (chains.includes(a.chain)) return;
        const upper = a.chain.toUpperCase();
        ctx.addIssue({
            code: "custom",
            path: ["chain"],
            message: chains.includes(upper)
                ? `${JSON.stringify(a.chain)} is not a chain's name: did you mean ${JSON.stringify(upper)}? (chain names are upper case)`
                : `${JSON.stringify(a.chain)} is not a built-in chain of the ${a.table} table (${chains.join(", ")}): only those have a policy (a user-defined chain's end returns to the chain that jumped to it)`,
        });
    });
export type ChainPolicySchema = z.infer<typeof ChainPolicySchema>;

/** State of a {@link ChainPolicy}: the inputs plus the policy found at create, put back on delete. */
export const ChainPolicyOutputFields = z.object({ previous: z.enum(["ACCEPT", "DROP"]) });
export type ChainPolicyOutputs = ChainPolicySchema & z.infer<typeof ChainPolicyOutputFields>;

const KEYS = inputKeys(ChainPolicySchema);
/** Which chain it is: a change of any of these is another chain's policy. */
const REPLACE = ["chain", "table", "family", "netns"];

/** Where pulumi-netns records the policy a ChainPolicy found before it set its own (under /run: gone on reboot, as are the policies). */
export const POLICY_MARKER_DIR = "/run/pulumi-netns/policy";

/**
 * What a resource holds: which chain (in which namespace, and its inode, to tell a namespace made again
 * since) and the policy it had before this resource set it. Written before the policy is set, so a
 * create run again after a crash before the engine saved state finds the true previous policy.
 */
interface PolicyMarker {
    netns?: string;
    inode?: number;
    family: Family;
    table: PolicyTable;
    chain: string;
    previous: Policy;
}

function parse(props: Record<string, unknown>): ChainPolicySchema {
    const { previous: _p, ...rest } = withoutProvider(props);
    return ChainPolicySchema.parse(rest);
}

const what = (a: ChainPolicySchema) => `the policy of ${iptablesTool(a.family)} chain ${a.chain} (table ${a.table}) in ${inNamespace(a.netns)}`;

/** The chain's policy now; fails when the namespace does not exist. */
async function currentPolicy(t: Target, a: ChainPolicySchema): Promise<string> {
    const p = await getChainPolicy(t, a.family, a.table, a.chain, a.netns);
    if (p === undefined) throw new Error(`cannot set ${what(a)}: namespace "${a.netns}" does not exist (make it first: pass a Netns's name output as netns)`);
    return p;
}

/** The marker this resource wrote for this very chain (same namespace, not made again since), if any; and the marker it would write now. */
async function markerOf(t: Target, a: ChainPolicySchema): Promise<{ recorded: PolicyMarker | undefined; at: Omit<PolicyMarker, "previous"> }> {
    const inode = a.netns === undefined ? undefined : (await netnsId(t, a.netns))?.inode;
    const at = { netns: a.netns, inode, family: a.family, table: a.table, chain: a.chain };
    return { recorded: await readOwnMarker<PolicyMarker>(t, POLICY_MARKER_DIR, a.owner, at, (d) => typeof d.previous === "string"), at };
}

/** True when the resource's namespace is gone (the root namespace never is). */
async function netnsGone(t: Target, netns: string | undefined): Promise<boolean> {
    return netns !== undefined && (await netnsId(t, netns)) === undefined;
}

/**
 * The provider behind {@link ChainPolicy}. A policy cannot carry an ownership marker: what this
 * resource holds is in its state (`previous`) and, written before the policy is set, in a marker
 * file under {@link POLICY_MARKER_DIR} keyed by its owner token. check and diff run nothing.
 */
export const chainPolicyProvider: pulumi.dynamic.ResourceProvider = withSchema(ChainPolicySchema, {
    /** Another chain (name, table, family, namespace) replaces, deleting first: two resources never hold one chain's policy at once. */
    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, { keys: KEYS, replace: REPLACE });
        return diffResult(changed, replaces);
    },

    /**
     * Records the policy found (in the marker, then in `previous`), then sets the declared one. With
     * `adopt`, the policy must already be the declared one: it is then taken as found (delete leaves it).
     */
    async create(inputs) {
        const a = parse(inputs);
        const t = targetOf(a);
        const current = await currentPolicy(t, a);
        const { recorded, at } = await markerOf(t, a);
        if (a.adopt && recorded === undefined) assertAdoptable(what(a), differences(a, { policy: current }, ["policy"]));
        const previous = recorded?.previous ?? (current as Policy);
        if (recorded === undefined) await writeMarker(t, POLICY_MARKER_DIR, a.owner, { ...at, previous });
        try {
            if (current !== a.policy) await setChainPolicy(t, a.family, a.table, a.chain, a.policy, a.netns);
        } catch (err) {
            await removeMarker(t, POLICY_MARKER_DIR, a.owner); // nothing was changed
            throw err;
        }
        return { id: targetId(t, a.owner), outs: stripUndefined({ ...a, previous }) };
    },

    /** The policy the chain has now (drift when someone changed it); gone with its namespace. */
    async read(id, props) {
        const state = props as ChainPolicyOutputs;
        const t = targetOf(state);
        const policy = await getChainPolicy(t, state.family, state.table, state.chain, state.netns);
        if (policy === undefined) return { id: "", props: {} };
        return { id, props: stripUndefined({ ...withoutProvider(props), policy }) };
    },

    /** Sets the declared policy (again, after drift); `previous` stays the one found at create. */
    async update(_id, olds, news) {
        const a = parse(news);
        const t = targetOf(a);
        const previous = (olds as ChainPolicyOutputs).previous;
        const { recorded, at } = await markerOf(t, a);
        if (recorded === undefined) await writeMarker(t, POLICY_MARKER_DIR, a.owner, { ...at, previous });
        if ((await currentPolicy(t, a)) !== a.policy) await setChainPolicy(t, a.family, a.table, a.chain, a.policy, a.netns);
        return { outs: stripUndefined({ ...a, previous }) };
    },

    /**
     * With `restoreOnDelete` (the default), puts `previous` back, but only while the chain still has
     * the policy this resource set: one someone changed since is theirs, left alone without failing.
     * A namespace that is gone needs nothing.
     */
    async delete(_id, props) {
        const s = props as ChainPolicyOutputs;
        const t = targetOf(s);
        if (s.restoreOnDelete !== false && s.previous !== undefined && s.previous !== s.policy && !(await netnsGone(t, s.netns))) {
            const now = await getChainPolicy(t, s.family, s.table, s.chain, s.netns);
            if (now === s.policy) await setChainPolicy(t, s.family, s.table, s.chain, s.previous, s.netns);
        }
        if (s.owner) await removeMarker(t, POLICY_MARKER_DIR, s.owner);
    },
});

/** Arguments of {@link ChainPolicy}. */
export interface ChainPolicyArgs extends TargetArgs {
    /** The built-in chain: "INPUT", "FORWARD" or "OUTPUT" of the filter table (mangle, raw and security have theirs). */
    chain: pulumi.Input<string>;
    /** "filter" (default), "mangle", "raw" or "security" (the nat table takes no DROP policy). */
    table?: pulumi.Input<string | undefined>;
    /** "ACCEPT" or "DROP": what a packet that reaches the chain's end gets. */
    policy: pulumi.Input<string>;
    /** 4 (iptables, default) or 6 (ip6tables). */
    family?: pulumi.Input<number | undefined>;
    /** The namespace whose chain it is; omitted = the root namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** On delete, put back the policy found at create, if the chain still has this one. Default: true. */
    restoreOnDelete?: pulumi.Input<boolean | undefined>;
}

/** ChainPolicy's outputs: every input as check normalised it, and what the kernel reports. */
export interface ChainPolicy extends ResourceOutputs<ChainPolicyOutputs> {}

/**
 * A built-in chain's policy, such as a firewall's `iptables -P FORWARD DROP`. Equivalent to:
 * `[ip netns exec NS] iptables -w -t TABLE -P CHAIN POLICY` (`ip6tables` with family 6). Outputs
 * `previous`: the policy found at create, put back on delete (`restoreOnDelete`).
 */
export class ChainPolicy extends pulumi.CustomResource {
    constructor(name: string, args: ChainPolicyArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("ChainPolicy", name, args, KEYS, inputKeys(ChainPolicyOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
