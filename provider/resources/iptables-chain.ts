import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { diffInputs, diffResult, inNamespace } from "../core/diff";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { inputKeys, NetnsName, Owner, stripUndefined, TargetFields, withoutProvider } from "../core/schema";
import { deleteChain, Family, iptablesTool, listTable, newChain, rulesUsing, Table } from "../linux/iptables";
import { readOwnMarker, removeMarker, writeMarker } from "../linux/marker";
import { netnsId } from "../linux/netns";
import { Target, targetId, targetOf } from "../linux/target";
import { BUILTIN_CHAINS, ChainName, TARGETS } from "./iptables-rule";
import { withSchema } from "../core/defaults";

const TABLES = Object.keys(BUILTIN_CHAINS) as Table[];

/** Inputs of an {@link IptablesChain}, validated and with defaults filled. */
export const IptablesChainSchema = z
    .object({
        name: ChainName.refine((s) => !Object.values(BUILTIN_CHAINS).flat().includes(s.toUpperCase()), "is a built-in chain's name: those exist already (give a chain of your own a name of its own)")
            .refine((s) => !(TARGETS as readonly string[]).includes(s.toUpperCase()), "is a target's name (ACCEPT, DROP…): give the chain a name of its own"),
        table: z.enum(TABLES as [Table, ...Table[]], { error: `must be one of ${TABLES.join(", ")}` }).default("filter"),
        family: z.union([z.literal(4), z.literal(6)], { error: "must be 4 (iptables) or 6 (ip6tables)" }).default(4),
        netns: NetnsName.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict();
export type IptablesChainSchema = z.infer<typeof IptablesChainSchema>;

const KEYS = inputKeys(IptablesChainSchema);
/** Which chain it is: every input but the owner. */
const REPLACE = ["name", "table", "family", "netns"];

/** Where pulumi-netns records the chains it made (a chain cannot carry a comment), one file per owner token. */
export const CHAIN_MARKER_DIR = "/run/pulumi-netns/chain";

/** Which chain a resource made: written before `-N`, so a create run again after a crash takes the chain back as its own. */
interface ChainMarker {
    netns?: string;
    /** The namespace's inode: a namespace made again since is another one. */
    inode?: number;
    family: Family;
    table: Table;
    name: string;
}

function parse(props: Record<string, unknown>): IptablesChainSchema {
    return IptablesChainSchema.parse(withoutProvider(props));
}

const what = (a: IptablesChainSchema) => `${iptablesTool(a.family)} chain ${a.name} (table ${a.table}) in ${inNamespace(a.netns)}`;

/** True when this resource's marker names this very chain (same namespace, not made again since). */
async function markedOurs(t: Target, a: IptablesChainSchema): Promise<{ ours: boolean; marker: ChainMarker }> {
    const inode = a.netns === undefined ? undefined : (await netnsId(t, a.netns))?.inode;
    const marker: ChainMarker = { netns: a.netns, inode, family: a.family, table: a.table, name: a.name };
    return { ours: (await readOwnMarker<ChainMarker>(t, CHAIN_MARKER_DIR, a.owner, marker, (d) => typeof d.name === "string")) !== undefined, marker };
}

/**
 * The provider behind {@link IptablesChain}. A chain cannot carry a comment: which chain a resource
 * made is in its state and, written before the chain is made, in a marker file under
 * {@link CHAIN_MARKER_DIR}. check and diff run nothing; any change is another chain, replaced delete-first.
 */
export const iptablesChainProvider: pulumi.dynamic.ResourceProvider = withSchema(IptablesChainSchema, {
    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, { keys: KEYS, replace: REPLACE });
        return diffResult(changed, replaces);
    },

    /**
     * Makes the chain. One that exists already is taken only when this resource made it (its marker,
     * after a crash) or with `adopt: true` (a script's chain, with whatever rules it holds); else create
     * fails, changing nothing.
     */
    async create(inputs) {
        const a = parse(inputs);
        const t = targetOf(a);
        const chains = (await listTable(t, a.family, a.table, a.netns))?.chains;
        if (chains === undefined) throw new Error(`cannot make ${what(a)}: namespace "${a.netns}" does not exist (make it first: pass a Netns's name output as netns)`);
        const { ours, marker } = await markedOurs(t, a);
        if (chains.includes(a.name)) {
            if (!ours && !a.adopt) {
                throw new Error(`${what(a)} already exists, and this resource did not make it: set adopt: true to take it over (with the rules it holds), or give the chain another name`);
            }
            if (!ours) await writeMarker(t, CHAIN_MARKER_DIR, a.owner, marker);
            return { id: targetId(t, a.owner), outs: stripUndefined({ ...a }) };
        }
        await writeMarker(t, CHAIN_MARKER_DIR, a.owner, marker);
        try {
            await newChain(t, a.family, a.table, a.name, a.netns);
        } catch (err) {
            await removeMarker(t, CHAIN_MARKER_DIR, a.owner);
            throw err;
        }
        return { id: targetId(t, a.owner), outs: stripUndefined({ ...a }) };
    },

    /** Gone when the chain (or its namespace) is gone. */
    async read(id, props) {
        const a = parse(props);
        const chains = (await listTable(targetOf(a), a.family, a.table, a.netns))?.chains;
        return chains?.includes(a.name) ? { id, props: stripUndefined({ ...a }) } : { id: "", props: {} };
    },

    /** Only the owner, `sudo` or `connection` (same host) change in place: the marker follows the owner. */
    async update(_id, olds, news) {
        const a = parse(news);
        const t = targetOf(a);
        const old = parse(olds);
        await writeMarker(t, CHAIN_MARKER_DIR, a.owner, (await markedOurs(t, a)).marker);
        if (old.owner !== a.owner) await removeMarker(t, CHAIN_MARKER_DIR, old.owner);
        return { outs: stripUndefined({ ...a }) };
    },

    /**
     * Deletes the chain. Its rules and the rules jumping to it are resources of their own, deleted
     * before it (they name it); a rule this stack did not make, in it or jumping to it, is never
     * touched: delete then fails, naming each, and changes nothing. A chain already gone is success.
     */
    async delete(_id, props) {
        const a = parse(props);
        const t = targetOf(a);
        const listed = await listTable(t, a.family, a.table, a.netns);
        if (listed?.chains.includes(a.name)) {
            const held = rulesUsing(listed.rules, a.name);
            if (held.length) {
                throw new Error(
                    `cannot delete ${what(a)}: rules this stack does not manage still use it (${held.join("; ")}). Nothing was changed: ` +
                        "delete them by hand (iptables -D …) or declare them as IptablesRule resources, or keep the chain with `pulumi state delete` on this resource",
                );
            }
            await deleteChain(t, a.family, a.table, a.name, a.netns);
        }
        await removeMarker(t, CHAIN_MARKER_DIR, a.owner);
    },
});

/** Arguments of {@link IptablesChain}. */
export interface IptablesChainArgs extends TargetArgs {
    /** The chain's name (at most 28 characters; not a built-in chain's or a target's). */
    name: pulumi.Input<string>;
    /** "filter" (default), "nat", "mangle" or "raw". */
    table?: pulumi.Input<string | undefined>;
    /** 4 (iptables, default) or 6 (ip6tables). */
    family?: pulumi.Input<number | undefined>;
    /** The namespace whose table holds the chain. Default: the root namespace. */
    netns?: pulumi.Input<string | undefined>;
}

/** IptablesChain's outputs: every input as check normalised it, and what the kernel reports. */
export interface IptablesChain extends ResourceOutputs<IptablesChainSchema> {}

/**
 * A user-defined chain, such as a firewall script's `iptables -N MY-CHAIN`. Equivalent to:
 * `[ip netns exec NS] iptables -w -t TABLE -N NAME` (`ip6tables` with family 6). Its rules, and the
 * rules that jump to it, are {@link IptablesRule}s that name it (`chain: c.name`, `jump: c.name`), so
 * they are made after it and deleted before it.
 */
export class IptablesChain extends pulumi.CustomResource {
    constructor(name: string, args: IptablesChainArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("IptablesChain", name, args, KEYS, [], opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
