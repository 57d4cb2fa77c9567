import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { assertAdoptable, differences, sameSet } from "../core/adopt";
import { claimLink, owned } from "../core/claim";
import { diffInputs } from "../core/diff";
import { awaitDad, linkEndLines, readLinkEnd, applyLinkEnd } from "../core/linkend";
import { NetnsResource, TargetInputs } from "../core/resource";
import { checkWith, IfName, InterfaceAddresses, Mtu, NetnsName, Owner, stripUndefined, TargetArgs, withoutProvider } from "../core/schema";
import { deleteLink, deleteLinkWithMac, getLink, linkSetLine, linkTaken, MACVLAN_MODES, macvlanAddLine, stableMac } from "../linux/link";
import { ipBatch, netnsExecLines } from "../linux/netns";
import { targetId, targetOf } from "../linux/target";

/** Inputs of a {@link Macvlan}, validated and with defaults filled. */
export const MacvlanArgs = z
    .object({
        name: IfName,
        parent: IfName,
        mode: z.enum(MACVLAN_MODES, { error: `must be one of ${MACVLAN_MODES.join(", ")}` }).default("bridge"),
        netns: NetnsName.optional(),
        addresses: InterfaceAddresses,
        mtu: Mtu.optional(),
        up: z.boolean().default(true),
        dad: z.boolean().default(false),
        owner: Owner,
        ...TargetArgs,
    })
    .strict();
export type MacvlanArgs = z.infer<typeof MacvlanArgs>;

/** State of a {@link Macvlan}: the inputs plus its MAC address. */
export interface MacvlanOutputs extends MacvlanArgs {
    mac: string;
}

const KEYS = ["name", "parent", "mode", "netns", "addresses", "mtu", "up", "dad", "owner"] as const;

function outputs(a: MacvlanArgs, mac: string): MacvlanOutputs {
    return stripUndefined({ ...a, mac });
}

/** The provider behind {@link Macvlan}. */
export const macvlanProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkWith(MacvlanArgs, news);
    },

    async diff(_id, olds, news) {
        // A new name, parent, mode or namespace is another link; the old one goes first when the name would collide.
        const { changed, replaces } = diffInputs(olds, news, KEYS, ["name", "parent", "mode", "netns"], ["mtu"]);
        const collide = replaces.length > 0 && olds.name === news.name && olds.netns === news.netns;
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: collide };
    },

    /**
     * Creates the macvlan on its parent (in the root namespace) directly in its namespace, and
     * configures it, in one `ip -batch` run in the root namespace (the settings through `netns exec`).
     * A parent that is not in the root namespace fails before anything is made. Name taken: as Bridge.
     */
    async create(inputs) {
        const a = MacvlanArgs.parse(withoutProvider(inputs));
        const t = targetOf(a);
        const mac = stableMac(a.owner);
        const id = targetId(t, `${a.netns ?? ""}/${a.name}`);
        if (!(await getLink(t, a.parent))) {
            throw new Error(`parent "${a.parent}" of macvlan "${a.name}" is not a link of the root namespace: a macvlan's parent must be there (its uplink); nothing was made`);
        }
        const settings = linkEndLines(a, a.owner, undefined, false);
        try {
            await ipBatch(t, undefined, [macvlanAddLine(a.name, a.parent, mac, a.mode, a.netns, a.mtu), ...(a.netns ? netnsExecLines(a.netns, settings) : settings)]);
            await awaitDad(t, a);
            return { id, outs: outputs(a, mac) };
        } catch (err) {
            if (!linkTaken(err)) {
                await deleteLinkWithMac(t, a.name, a.netns, mac);
                throw err;
            }
            const { claim, link } = await claimLink(t, a.name, a.netns, a.owner, "macvlan", mac, a.adopt);
            if (claim === "absent") throw err;
            if (claim === "unmarked") {
                const found = { addresses: sameSet(a.addresses, link!.addresses) ? a.addresses : link!.addresses, mtu: a.mtu === undefined ? undefined : link!.mtu, up: link!.up };
                assertAdoptable(`macvlan "${a.name}" in ${a.netns ? `namespace "${a.netns}"` : "the root namespace"}`, differences(a, found, ["addresses", "mtu", "up"]));
                await ipBatch(t, a.netns, [linkSetLine(a.name, { alias: a.owner })]);
                return { id, outs: outputs(a, link!.mac) };
            }
            await applyLinkEnd(t, a, a.owner, link, false);
            return { id, outs: outputs(a, link!.mac) };
        }
    },

    async read(id, props) {
        const a = props as MacvlanOutputs;
        const t = targetOf(a);
        const link = await getLink(t, a.name, a.netns);
        if (!owned(link, a.owner)) return { id: "", props: {} };
        const e = readLinkEnd(a, link);
        return { id, props: stripUndefined({ ...a, addresses: e.addresses, mtu: e.mtu, up: e.up, mac: link.mac }) };
    },

    async update(_id, _olds, news) {
        const a = MacvlanArgs.parse(withoutProvider(news));
        const t = targetOf(a);
        const link = await getLink(t, a.name, a.netns);
        if (!owned(link, a.owner)) throw new Error(`macvlan "${a.name}" is gone or no longer carries this resource's marker: run pulumi refresh`);
        await applyLinkEnd(t, a, a.owner, link, false);
        return { outs: outputs(a, link.mac) };
    },

    async delete(_id, props) {
        const a = props as MacvlanOutputs;
        const t = targetOf(a);
        if (owned(await getLink(t, a.name, a.netns), a.owner)) await deleteLink(t, a.name, a.netns);
    },
};

/** Arguments of {@link Macvlan}. */
export interface MacvlanInputs extends TargetInputs {
    /** The macvlan's interface name (1–15 characters), in `netns`. */
    name: pulumi.Input<string>;
    /** The link it sits on, in the root namespace (e.g. the host's uplink). */
    parent: pulumi.Input<string>;
    /** "bridge" (default: the parent's macvlans reach each other), "private", "vepa" or "passthru". */
    mode?: pulumi.Input<string | undefined>;
    /** Namespace to put it in; omitted = the root namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** Addresses, e.g. "192.168.1.50/24" on the parent's network. */
    addresses?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** MTU; omitted = the parent's, left alone afterwards. */
    mtu?: pulumi.Input<number | undefined>;
    /** Bring it up. Default: true. */
    up?: pulumi.Input<boolean | undefined>;
    /** Duplicate address detection for new IPv6 addresses (see VethPair). Default: false. */
    dad?: pulumi.Input<boolean | undefined>;
}

/**
 * A macvlan: a namespace straight on the parent's network, with its own MAC (derived from the
 * owner token). Equivalent to: `ip link add link PARENT name NAME address MAC netns NS type macvlan
 * mode MODE`, then `ip -n NS address add CIDR dev NAME` and `ip -n NS link set dev NAME alias OWNER up`, in one `ip -batch`.
 */
export class Macvlan extends NetnsResource {
    declare readonly name: pulumi.Output<string>;
    declare readonly parent: pulumi.Output<string>;
    declare readonly mode: pulumi.Output<string>;
    declare readonly netns: pulumi.Output<string | undefined>;
    declare readonly addresses: pulumi.Output<string[]>;
    declare readonly mtu: pulumi.Output<number | undefined>;
    declare readonly up: pulumi.Output<boolean>;
    declare readonly dad: pulumi.Output<boolean>;
    declare readonly mac: pulumi.Output<string>;

    constructor(name: string, args: MacvlanInputs, opts?: pulumi.CustomResourceOptions) {
        super("Macvlan", name, args, KEYS, ["mac"], opts);
    }
}
