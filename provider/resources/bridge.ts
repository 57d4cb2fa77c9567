import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { claimLink, owned } from "../core/claim";
import { diffInputs } from "../core/diff";
import { applyLinkEnd, awaitDad, linkEndLines, readLinkEnd } from "../core/linkend";
import { ipBatch } from "../linux/netns";
import { checkWith, IfName, InterfaceAddresses, Mtu, NetnsName, Owner, stripUndefined, withoutProvider, TargetArgs } from "../core/schema";
import { NetnsResource, TargetInputs } from "../core/resource";
import { targetId, targetOf } from "../linux/target";
import { bridgeAddLine, deleteLink, deleteLinkWithMac, getLink, linkSetLine, linkTaken, stableMac } from "../linux/link";
import { assertAdoptable, differences, sameSet } from "../core/adopt";

/** Inputs of a {@link Bridge}, validated and with defaults filled. */
export const BridgeArgs = z
    .object({
        name: IfName,
        netns: NetnsName.optional(),
        addresses: InterfaceAddresses,
        mtu: Mtu.optional(),
        up: z.boolean().default(true),
        dad: z.boolean().default(false),
        owner: Owner,
        ...TargetArgs,
    })
    .strict();
export type BridgeArgs = z.infer<typeof BridgeArgs>;

/** State of a {@link Bridge}: the inputs plus its MAC address. */
export interface BridgeOutputs extends BridgeArgs {
    mac: string;
}

const KEYS = ["name", "netns", "addresses", "mtu", "up", "dad", "owner"] as const;

function outputs(a: BridgeArgs, mac: string): BridgeOutputs {
    return stripUndefined({ ...a, mac });
}

/** The provider behind {@link Bridge}. */
export const bridgeProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkWith(BridgeArgs, news);
    },

    async diff(_id, olds, news) {
        // A replacement always has a new name or namespace, so old and new never collide.
        // State written before `dad` existed has none: it was false.
        const { changed, replaces } = diffInputs({ dad: false, ...olds }, { dad: false, ...news }, KEYS, ["name", "netns"], ["mtu"]);
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: false };
    },

    /**
     * Creates the bridge optimistically, in the same `ip -batch` that configures it. When the name is
     * taken, adopts the bridge only if it carries our marker (a crash before the engine saved
     * state), else fails naming what exists. A failure deletes only a bridge this call made.
     */
    async create(inputs) {
        const a = BridgeArgs.parse(withoutProvider(inputs));
        const t = targetOf(a);
        const mac = stableMac(a.owner);
        const id = targetId(t, `${a.netns ?? ""}/${a.name}`);
        try {
            await ipBatch(t, a.netns, [bridgeAddLine(a.name, mac, a.mtu), ...linkEndLines(a, a.owner, undefined, false)]);
            await awaitDad(t, a);
            return { id, outs: outputs(a, mac) };
        } catch (err) {
            if (!linkTaken(err)) {
                await deleteLinkWithMac(t, a.name, a.netns, mac);
                throw err;
            }
            // Someone holds the name: take it back only if it is ours (claimLink says whose it is otherwise), or with adopt one made by hand that matches.
            const { claim, link } = await claimLink(t, a.name, a.netns, a.owner, "bridge", mac, a.adopt);
            if (claim === "absent") throw err;
            if (claim === "unmarked") {
                const diffs = differences(a, { ...link!, addresses: sameSet(a.addresses, link!.addresses) ? a.addresses : link!.addresses, mtu: a.mtu === undefined ? undefined : link!.mtu }, ["addresses", "mtu", "up"]);
                assertAdoptable(`bridge "${a.name}" in ${a.netns ? `namespace "${a.netns}"` : "the root namespace"}`, diffs);
                await ipBatch(t, a.netns, [linkSetLine(a.name, { alias: a.owner })]); // the marker, and nothing else
                return { id, outs: outputs(a, link!.mac) };
            }
            await applyLinkEnd(t, a, a.owner, link, false);
            return { id, outs: outputs(a, link!.mac) };
        }
    },

    async read(id, props) {
        const a = props as BridgeOutputs;
        const t = targetOf(a);
        const link = await getLink(t, a.name, a.netns);
        if (!owned(link, a.owner)) return { id: "", props: {} };
        const e = readLinkEnd(a, link);
        return { id, props: stripUndefined({ ...a, addresses: e.addresses, mtu: e.mtu, up: e.up, mac: link.mac }) };
    },

    async update(_id, _olds, news) {
        const a = BridgeArgs.parse(withoutProvider(news));
        const t = targetOf(a);
        const link = await getLink(t, a.name, a.netns);
        if (!owned(link, a.owner)) throw new Error(`bridge "${a.name}" is gone or no longer carries this resource's marker: run pulumi refresh`);
        await applyLinkEnd(t, a, a.owner, link, false);
        return { outs: outputs(a, link.mac) };
    },

    async delete(_id, props) {
        const a = props as BridgeOutputs;
        const t = targetOf(a);
        // Links still attached are detached by the kernel, not deleted.
        if (owned(await getLink(t, a.name, a.netns), a.owner)) await deleteLink(t, a.name, a.netns);
    },
};

/** Arguments of {@link Bridge}. */
export interface BridgeInputs extends TargetInputs {
    /** The bridge's interface name (1–15 characters). */
    name: pulumi.Input<string>;
    /** Namespace to create it in; omitted = the root namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** Addresses on the bridge, e.g. the gateway "10.1.1.3/16". */
    addresses?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** MTU; omitted = the kernel's default, left alone afterwards. */
    mtu?: pulumi.Input<number | undefined>;
    /** Bring the bridge up. Default: true. */
    up?: pulumi.Input<boolean | undefined>;
    /** Duplicate address detection for new IPv6 addresses: false (default) adds them `nodad`, usable at once; true waits for DAD (see the README). */
    dad?: pulumi.Input<boolean | undefined>;
}

/**
 * A Linux bridge, with a fixed MAC address derived from its owner token: it does not change as
 * ports come and go, nor when a rename replaces the bridge (neighbours' ARP caches stay valid). Equivalent to: `ip [-n NS] link add name NAME address MAC type bridge`,
 * `ip address add CIDR dev NAME`, `ip link set dev NAME up`, all in one `ip -batch`.
 */
export class Bridge extends NetnsResource {
    declare readonly name: pulumi.Output<string>;
    declare readonly netns: pulumi.Output<string | undefined>;
    declare readonly addresses: pulumi.Output<string[]>;
    declare readonly mtu: pulumi.Output<number | undefined>;
    declare readonly up: pulumi.Output<boolean>;
    declare readonly dad: pulumi.Output<boolean>;
    declare readonly mac: pulumi.Output<string>;

    constructor(name: string, args: BridgeInputs, opts?: pulumi.CustomResourceOptions) {
        super("Bridge", name, args, KEYS, ["mac"], opts);
    }
}
