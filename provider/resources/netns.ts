import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { claimNetns } from "../core/claim";
import { diffInputs } from "../core/diff";
import { OWNER_PREFIX } from "../core/owner";
import { checkWith, IfName, NetnsName, Owner, withoutProvider, TargetArgs } from "../core/schema";
import { NetnsResource, TargetInputs } from "../core/resource";
import { targetId, targetOf } from "../linux/target";
import { CommandError, failedBatchLine } from "../linux/exec";
import { getLink, listLinks, setLink } from "../linux/link";
import { addNetns, deleteNetns, NETNS_DIR, PENDING_INODE, readNetnsMarker, netnsInode, netnsOwner, removeNetnsMarker, writeNetnsMarker } from "../linux/netns";

/**
 * Links the kernel puts in every namespace: `lo`, and the fallback devices of tunnel modules
 * (ipip, sit, ip6_tunnel, ip_gre, ip6_gre, ip_vti, ip6_vti) when those are loaded.
 */
const KERNEL_LINKS = new Set(["lo", "tunl0", "sit0", "ip6tnl0", "gre0", "gretap0", "erspan0", "ip6gre0", "ip6erspan0", "ip_vti0", "ip6_vti0"]);

/** Inputs of a {@link Netns}, validated and with defaults filled. */
export const NetnsArgs = z
    .object({
        name: NetnsName,
        loopbackUp: z.boolean().default(true),
        owner: Owner,
        ...TargetArgs,
    })
    .strict();
export type NetnsArgs = z.infer<typeof NetnsArgs>;

/** State of a {@link Netns}: the inputs plus the namespace's path. */
export interface NetnsOutputs extends NetnsArgs {
    path: string;
}

const KEYS = ["name", "loopbackUp", "owner"] as const;

function outputs(a: NetnsArgs): NetnsOutputs {
    return { ...a, path: `${NETNS_DIR}/${a.name}` };
}

/** The provider behind {@link Netns}. */
export const netnsProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkWith(NetnsArgs, news);
    },

    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, KEYS, ["name"]);
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
    },

    async create(inputs) {
        const a = NetnsArgs.parse(withoutProvider(inputs));
        const t = targetOf(a);
        let claim = await claimNetns(t, a.name, a.owner);
        let made = false; // by this call, with lo already as declared
        const undo = async () => {
            await deleteNetns(t, a.name);
            await removeNetnsMarker(t, a.name);
        };
        if (claim === "absent") {
            await writeNetnsMarker(t, a.name, { owner: a.owner, inode: PENDING_INODE });
            try {
                await addNetns(t, a.name, a.loopbackUp);
                made = true;
            } catch (err) {
                if ((failedBatchLine(err) ?? 1) > 1) {
                    await undo(); // made, but bringing lo up failed
                    throw err;
                }
                // Our pending marker only: a concurrent create of the same name may have written its own.
                const m = await readNetnsMarker(t, a.name);
                if (m?.owner === a.owner && m.inode === PENDING_INODE) await removeNetnsMarker(t, a.name);
                // Another create made it since the claim: name who holds it now (never adopt it blindly).
                if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
                claim = await claimNetns(t, a.name, a.owner);
                if (claim === "absent") throw err;
            }
        }
        try {
            await writeNetnsMarker(t, a.name, { owner: a.owner, inode: (await netnsInode(t, a.name))! });
            if (!made) await setLink(t, "lo", a.name, { up: a.loopbackUp });
        } catch (err) {
            if (made) await undo();
            throw err;
        }
        return { id: targetId(t, a.name), outs: outputs(a) };
    },

    async read(id, props) {
        const a = props as NetnsOutputs;
        const t = targetOf(a);
        if ((await netnsOwner(t, a.name)) !== a.owner) return { id: "", props: {} };
        const lo = await getLink(t, "lo", a.name);
        return { id, props: outputs({ ...a, loopbackUp: lo?.up ?? false }) };
    },

    async update(_id, olds, news) {
        const a = NetnsArgs.parse(withoutProvider(news));
        const t = targetOf(a);
        // Only a namespace still carrying our marker is modified (not one deleted and re-made by someone else).
        if ((await netnsOwner(t, a.name)) !== (olds as NetnsOutputs).owner) {
            throw new Error(`namespace "${a.name}" is gone or no longer carries this resource's marker: run pulumi refresh`);
        }
        if (a.owner !== (olds as NetnsOutputs).owner) {
            await writeNetnsMarker(t, a.name, { owner: a.owner, inode: (await netnsInode(t, a.name))! });
        }
        await setLink(t, "lo", a.name, { up: a.loopbackUp });
        return { outs: outputs(a) };
    },

    /**
     * Deletes the namespace if it carries our marker, with the veths pulumi-netns made in it (in the
     * same process). Refuses (touching nothing) while it still holds links pulumi-netns did not make:
     * deleting the namespace would destroy them, and with a veth the peer end outside it too. Delete
     * those links, or the namespace by hand, and run again.
     */
    async delete(_id, props) {
        const a = props as NetnsOutputs;
        const t = targetOf(a);
        // A namespace that is gone, or that was replaced by one we did not make, is not ours to delete.
        if ((await netnsOwner(t, a.name)) === a.owner) {
            const links = await listLinks(t, a.name);
            const foreign = links.filter((l) => !KERNEL_LINKS.has(l.name) && !l.alias?.startsWith(OWNER_PREFIX));
            if (foreign.length > 0) {
                throw new Error(
                    `namespace "${a.name}" still holds links that pulumi-netns did not make: ` +
                        `${foreign.map((l) => `${l.name} (${l.kind ?? "device"})`).join(", ")}; deleting it would destroy them. ` +
                        `Delete them first (${foreign.map((l) => `ip -n ${a.name} link delete ${l.name}`).join("; ")}), then run again ` +
                        `(this delete then also removes the veths pulumi-netns made in it)`,
                );
            }
            // Veths pulumi-netns made in here go with it, at once (a VethPair with `deletedWith` this namespace leaves them to this delete).
            const veths = links.filter((l) => l.kind === "veth" && l.alias?.startsWith(OWNER_PREFIX) && IfName.safeParse(l.name).success);
            await deleteNetns(t, a.name, veths.map((l) => l.name));
        }
        await removeNetnsMarker(t, a.name);
    },
};

/** Arguments of {@link Netns}. */
export interface NetnsInputs extends TargetInputs {
    /** The namespace's name (a file under /run/netns). Default: the resource name. */
    name?: pulumi.Input<string>;
    /** Bring `lo` up inside the namespace. Default: true. */
    loopbackUp?: pulumi.Input<boolean>;
}

/**
 * A named network namespace. Equivalent to: `ip netns add NAME` and `ip -n NAME link set lo up`.
 */
export class Netns extends NetnsResource {
    declare readonly name: pulumi.Output<string>;
    declare readonly loopbackUp: pulumi.Output<boolean>;
    declare readonly path: pulumi.Output<string>;

    constructor(name: string, args: NetnsInputs = {}, opts?: pulumi.CustomResourceOptions) {
        super("Netns", name, { name, ...args }, KEYS, ["path"], opts);
    }
}
