import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { assertAdoptable, differences, kindDifferences, sameSet } from "./adopt";
import { claimLink, owned } from "./claim";
import { diffInputs, diffResult, inNamespace } from "./diff";
import { applyLinkEnd, awaitDad, LinkEnd, readLinkEnd } from "./linkend";
import { stripUndefined, withoutProvider, type Connection } from "./schema";
import { deleteLink, deleteLinkWithMac, getLink, linkAddRan, linkSetLine, linkTaken, stableMac } from "../linux/link";
import { ipBatch } from "../linux/batch";
import { Target, targetId, targetOf } from "../linux/target";
import { withSchema } from "./defaults";

/** What every single-link resource's inputs hold (Bridge, Macvlan, Vxlan). */
type LinkArgs = LinkEnd & { owner: string; connection?: Connection; sudo?: boolean; adopt?: boolean } & Record<string, unknown>;

/** What a single-link resource declares: its kind, schema and keys, and how its create batch is made. */
export interface LinkResourceSpec<A extends LinkArgs> {
    /** The kernel's kind (`ip -d link` info_kind), also used in messages. */
    kind: string;
    schema: z.ZodType<A> & { parse(v: unknown): A };
    keys: readonly string[];
    /** Inputs whose change makes another link. */
    replace: readonly string[];
    /** Whether the resource declares `master` (then it is compared, applied and read back). */
    master: boolean;
    /** The `ip -batch` that makes and configures the link, and the namespace it runs in. */
    createBatch(a: A, mac: string): { netns: string | undefined; lines: string[] };
    /** Checks run before create makes anything (e.g. Macvlan's parent). */
    beforeCreate?(t: Target, a: A): Promise<void>;
    /**
     * State of the link beyond `ip link` (Vxlan's flood list): read by read (and by adopt, which
     * compares `keys`), applied after create (`current` undefined) and after update.
     */
    extra?: {
        keys: readonly string[];
        read(t: Target, a: A): Promise<Partial<A>>;
        apply(t: Target, a: A, current: Partial<A> | undefined): Promise<void>;
    };
}

/**
 * The provider of a resource that is one link (Bridge, Macvlan, Vxlan). check and diff run nothing.
 * Create makes the link optimistically with its declared `mac`, else a MAC derived from the owner
 * token; when the name is taken it takes the link back only if it is ours (a crash before the engine
 * saved state: our alias, or no alias yet and the derived MAC; a declared MAC proves nothing, another
 * link may have it), with `adopt` one made by hand that matches (writing only the alias), else fails
 * naming what exists. A failure deletes only a link this call made. Read, update and delete act only
 * on a link carrying our marker; a declared `mac` changed by hand is drift, which update puts back.
 */
export function linkResourceProvider<A extends LinkArgs>(r: LinkResourceSpec<A>): pulumi.dynamic.ResourceProvider {
    const outputs = (a: A, mac: string) => stripUndefined({ ...a, mac } as Record<string, unknown>);
    const where = (a: A) => (inNamespace(a.netns));
    const diffSpec = { keys: r.keys, replace: r.replace, unmanagedWhenOmitted: ["mtu", "mac"], references: r.master ? ["master"] : [] };
    return withSchema(r.schema as unknown as z.ZodObject, {
        async diff(_id, olds, news) {
            // State written before `dad` existed has none: withSchema fills in its default, false, as it was.
            const { changed, replaces } = diffInputs(olds, news, diffSpec);
            return diffResult(changed, replaces);
        },

        async create(inputs) {
            const a = r.schema.parse(withoutProvider(inputs));
            const t = targetOf(a);
            // Only a MAC derived from the owner token identifies the link as ours before it has its alias.
            const derived = a.mac === undefined ? stableMac(a.owner) : undefined;
            const mac = a.mac ?? derived!;
            const id = targetId(t, `${a.netns ?? ""}/${a.name}`);
            await r.beforeCreate?.(t, a);
            let made = false;
            try {
                const batch = r.createBatch(a, mac);
                await ipBatch(t, batch.netns, batch.lines);
                made = true;
                await awaitDad(t, a);
                await r.extra?.apply(t, a, undefined);
                return { id, outs: outputs(a, mac) };
            } catch (err) {
                if (!linkTaken(err)) {
                    if (derived !== undefined || made || linkAddRan(err)) await deleteLinkWithMac(t, a.name, a.netns, mac);
                    throw err;
                }
                const { claim, link } = await claimLink(t, a.name, a.netns, a.owner, r.kind, derived, a.adopt);
                if (claim === "absent") throw err;
                if (claim === "unmarked") {
                    const found = { addresses: sameSet(a.addresses, link!.addresses) ? a.addresses : link!.addresses, master: link!.master, mtu: a.mtu === undefined ? undefined : link!.mtu, up: link!.up, mac: a.mac === undefined ? undefined : link!.mac, ...(await r.extra?.read(t, a)) };
                    assertAdoptable(`${r.kind} "${a.name}" in ${where(a)}`, [
                        ...(await kindDifferences(t, r.kind, a, link!, a.netns)),
                        ...differences(a, found, ["addresses", ...(r.master ? ["master"] : []), "mtu", "up", "mac", ...(r.extra?.keys ?? [])]),
                    ]);
                    await ipBatch(t, a.netns, [linkSetLine(a.name, { alias: a.owner })]); // the marker, and nothing else
                    return { id, outs: outputs(a, link!.mac) };
                }
                await applyLinkEnd(t, a, a.owner, link, r.master);
                await r.extra?.apply(t, a, await r.extra.read(t, a));
                return { id, outs: outputs(a, a.mac ?? link!.mac) };
            }
        },

        async read(id, props) {
            const a = props as A & { mac: string };
            const t = targetOf(a);
            const link = await getLink(t, a.name, a.netns);
            if (!owned(link, a.owner)) return { id: "", props: {} };
            const e = readLinkEnd(a, link);
            const extra = await r.extra?.read(t, a);
            return { id, props: stripUndefined({ ...a, addresses: e.addresses, ...(r.master ? { master: e.master } : {}), mtu: e.mtu, up: e.up, mac: link.mac, ...extra } as Record<string, unknown>) };
        },

        async update(_id, _olds, news) {
            const a = r.schema.parse(withoutProvider(news));
            const t = targetOf(a);
            const link = await getLink(t, a.name, a.netns);
            if (!owned(link, a.owner)) throw new Error(`${r.kind} "${a.name}" is gone or no longer carries this resource's marker: run pulumi refresh`);
            await applyLinkEnd(t, a, a.owner, link, r.master);
            await r.extra?.apply(t, a, await r.extra.read(t, a));
            return { outs: outputs(a, a.mac ?? link.mac) };
        },

        async delete(_id, props) {
            const a = props as A;
            const t = targetOf(a);
            // A bridge's ports are detached by the kernel, not deleted.
            if (owned(await getLink(t, a.name, a.netns), a.owner)) await deleteLink(t, a.name, a.netns);
        },
    });
}
