import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { claimNetns } from "../core/claim";
import { diffInputs } from "../core/diff";
import { resourceProps } from "../core/owner";
import { checkWith, NetnsName, Owner, withoutProvider } from "../core/schema";
import { providerFor } from "../core/shim";
import { getLink, setLink } from "../linux/link";
import { addNetns, deleteNetns, NETNS_DIR, netnsInode, netnsOwner, removeNetnsMarker, writeNetnsMarker } from "../linux/netns";

/** Inputs of a {@link Netns}, validated and with defaults filled. */
export const NetnsArgs = z
    .object({
        name: NetnsName,
        loopbackUp: z.boolean().default(true),
        owner: Owner,
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
        const claim = await claimNetns(a.name, a.owner);
        if (claim === "absent") {
            await addNetns(a.name);
        }
        try {
            await writeNetnsMarker(a.name, { owner: a.owner, inode: (await netnsInode(a.name))! });
            await setLink("lo", a.name, { up: a.loopbackUp });
        } catch (err) {
            if (claim === "absent") {
                await deleteNetns(a.name);
                await removeNetnsMarker(a.name);
            }
            throw err;
        }
        return { id: a.name, outs: outputs(a) };
    },

    async read(id, props) {
        const a = props as NetnsOutputs;
        if ((await netnsOwner(a.name)) !== a.owner) return { id: "", props: {} };
        const lo = await getLink("lo", a.name);
        return { id, props: outputs({ ...a, loopbackUp: lo?.up ?? false }) };
    },

    async update(_id, olds, news) {
        const a = NetnsArgs.parse(withoutProvider(news));
        if (a.owner !== (olds as NetnsOutputs).owner) {
            await writeNetnsMarker(a.name, { owner: a.owner, inode: (await netnsInode(a.name))! });
        }
        await setLink("lo", a.name, { up: a.loopbackUp });
        return { outs: outputs(a) };
    },

    async delete(_id, props) {
        const a = props as NetnsOutputs;
        // A namespace that is gone, or that was replaced by one we did not make, is not ours to delete.
        if ((await netnsOwner(a.name)) === a.owner) {
            await deleteNetns(a.name);
        }
        await removeNetnsMarker(a.name);
    },
};

/** Arguments of {@link Netns}. */
export interface NetnsInputs {
    /** The namespace's name (a file under /run/netns). Default: the resource name. */
    name?: pulumi.Input<string>;
    /** Bring `lo` up inside the namespace. Default: true. */
    loopbackUp?: pulumi.Input<boolean>;
}

/**
 * A named network namespace. Equivalent to: `ip netns add NAME` and `ip -n NAME link set lo up`.
 */
export class Netns extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly loopbackUp: pulumi.Output<boolean>;
    declare readonly path: pulumi.Output<string>;
    declare readonly owner: pulumi.Output<string>;

    constructor(name: string, args: NetnsInputs = {}, opts?: pulumi.CustomResourceOptions) {
        super(providerFor("Netns"), name, resourceProps("Netns", name, { name, ...args }, KEYS, ["path"]), opts, "netns", "Netns");
    }
}
