import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { claimLink, owned } from "../core/claim";
import { diffInputs } from "../core/diff";
import { applyLinkEnd, LinkEnd, readLinkEnd } from "../core/linkend";
import { resourceProps } from "../core/owner";
import { checkWith, IfName, InterfaceAddresses, Mtu, NetnsName, Owner, stripUndefined, withoutProvider } from "../core/schema";
import { providerFor } from "../core/shim";
import { addVeth, deleteLink, getLink } from "../linux/link";

/** Inputs of a {@link VethPair}, validated and with defaults filled. */
export const VethPairArgs = z
    .object({
        name: IfName,
        peerName: IfName,
        netns: NetnsName.optional(),
        peerNetns: NetnsName.optional(),
        addresses: InterfaceAddresses,
        peerAddresses: InterfaceAddresses,
        master: IfName.optional(),
        peerMaster: IfName.optional(),
        mtu: Mtu.optional(),
        up: z.boolean().default(true),
        owner: Owner,
    })
    .strict()
    .refine((a) => !(a.name === a.peerName && a.netns === a.peerNetns), {
        message: "peerName must differ from name when both ends are in the same namespace",
        path: ["peerName"],
    });
export type VethPairArgs = z.infer<typeof VethPairArgs>;

/** State of a {@link VethPair}: the inputs plus both ends' MAC addresses. */
export interface VethPairOutputs extends VethPairArgs {
    mac: string;
    peerMac: string;
}

const KEYS = ["name", "peerName", "netns", "peerNetns", "addresses", "peerAddresses", "master", "peerMaster", "mtu", "up", "owner"] as const;
const REPLACE = ["name", "peerName", "netns", "peerNetns"];

function ends(a: VethPairArgs): [LinkEnd, LinkEnd] {
    return [
        { name: a.name, netns: a.netns, addresses: a.addresses, master: a.master, mtu: a.mtu, up: a.up },
        { name: a.peerName, netns: a.peerNetns, addresses: a.peerAddresses, master: a.peerMaster, mtu: a.mtu, up: a.up },
    ];
}

/** "ns/name" of each end, to tell whether a replacement would reuse a name still held by the old pair. */
function places(a: Record<string, unknown>): string[] {
    return [`${a.netns ?? ""}/${a.name}`, `${a.peerNetns ?? ""}/${a.peerName}`];
}

async function outputs(a: VethPairArgs): Promise<VethPairOutputs> {
    const [end, peer] = await Promise.all([getLink(a.name, a.netns), getLink(a.peerName, a.peerNetns)]);
    return stripUndefined({ ...a, mac: end?.mac ?? "", peerMac: peer?.mac ?? "" });
}

/** The provider behind {@link VethPair}. */
export const vethPairProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkWith(VethPairArgs, news);
    },

    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, KEYS, REPLACE, ["mtu"]);
        const oldPlaces = places(olds);
        const collide = replaces.length > 0 && places(news).some((p) => oldPlaces.includes(p));
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: collide };
    },

    async create(inputs) {
        const a = VethPairArgs.parse(withoutProvider(inputs));
        const { claim } = await claimLink(a.name, a.netns, a.owner, "veth");
        if (claim === "absent") {
            // Refuse before creating anything if the peer's name is taken by someone else.
            await claimLink(a.peerName, a.peerNetns, a.owner, "veth");
            await addVeth({ name: a.name, netns: a.netns }, { name: a.peerName, netns: a.peerNetns }, { mtu: a.mtu, alias: a.owner });
        }
        try {
            for (const end of ends(a)) await applyLinkEnd(end, a.owner, claim === "ours");
        } catch (err) {
            if (claim === "absent") await deleteLink(a.name, a.netns);
            throw err;
        }
        return { id: `${a.netns ?? ""}/${a.name}`, outs: await outputs(a) };
    },

    async read(id, props) {
        const a = props as VethPairOutputs;
        const [link, peerLink] = await Promise.all([getLink(a.name, a.netns), getLink(a.peerName, a.peerNetns)]);
        if (!owned(link, a.owner) || !owned(peerLink, a.owner)) return { id: "", props: {} };
        const [end, peer] = ends(a);
        const [e, p] = await Promise.all([readLinkEnd(end, link), readLinkEnd(peer, peerLink)]);
        return {
            id,
            props: stripUndefined({
                ...a,
                addresses: e.addresses,
                peerAddresses: p.addresses,
                master: e.master,
                peerMaster: p.master,
                mtu: e.mtu,
                up: e.up && p.up,
                mac: link.mac,
                peerMac: peerLink.mac,
            }),
        };
    },

    async update(_id, _olds, news) {
        const a = VethPairArgs.parse(withoutProvider(news));
        for (const end of ends(a)) await applyLinkEnd(end, a.owner, true);
        return { outs: await outputs(a) };
    },

    async delete(_id, props) {
        const a = props as VethPairOutputs;
        // Deleting one end removes both; a pair already gone, or no longer ours, is left alone.
        if (owned(await getLink(a.name, a.netns), a.owner)) {
            await deleteLink(a.name, a.netns);
        } else if (owned(await getLink(a.peerName, a.peerNetns), a.owner)) {
            await deleteLink(a.peerName, a.peerNetns);
        }
    },
};

/** Arguments of {@link VethPair}. */
export interface VethPairInputs {
    /** Name of the first end (1–15 characters). */
    name: pulumi.Input<string>;
    /** Name of the other end. */
    peerName: pulumi.Input<string>;
    /** Namespace of the first end; omitted = the root (host) namespace. */
    netns?: pulumi.Input<string>;
    /** Namespace of the other end; omitted = the root namespace. */
    peerNetns?: pulumi.Input<string>;
    /** Addresses of the first end, "10.1.1.1/24" or "fd00::1/64". */
    addresses?: pulumi.Input<pulumi.Input<string>[]>;
    /** Addresses of the other end. */
    peerAddresses?: pulumi.Input<pulumi.Input<string>[]>;
    /** Bridge (in the first end's namespace) to attach the first end to. */
    master?: pulumi.Input<string>;
    /** Bridge (in the other end's namespace) to attach the other end to. */
    peerMaster?: pulumi.Input<string>;
    /** MTU of both ends; omitted = the kernel's default, left alone afterwards. */
    mtu?: pulumi.Input<number>;
    /** Bring both ends up. Default: true. */
    up?: pulumi.Input<boolean>;
}

/**
 * A veth pair with each end created directly in its namespace. Equivalent to:
 * `ip link add name NAME netns NS type veth peer name PEER netns PEERNS`, then per end
 * `ip -n NS address add CIDR dev NAME`, `ip -n NS link set dev NAME master BR up`.
 */
export class VethPair extends pulumi.dynamic.Resource {
    declare readonly name: pulumi.Output<string>;
    declare readonly peerName: pulumi.Output<string>;
    declare readonly netns: pulumi.Output<string | undefined>;
    declare readonly peerNetns: pulumi.Output<string | undefined>;
    declare readonly addresses: pulumi.Output<string[]>;
    declare readonly peerAddresses: pulumi.Output<string[]>;
    declare readonly master: pulumi.Output<string | undefined>;
    declare readonly peerMaster: pulumi.Output<string | undefined>;
    declare readonly mtu: pulumi.Output<number | undefined>;
    declare readonly up: pulumi.Output<boolean>;
    declare readonly mac: pulumi.Output<string>;
    declare readonly peerMac: pulumi.Output<string>;
    declare readonly owner: pulumi.Output<string>;

    constructor(name: string, args: VethPairInputs, opts?: pulumi.CustomResourceOptions) {
        super(providerFor("VethPair"), name, resourceProps("VethPair", name, args, KEYS, ["mac", "peerMac"]), opts, "netns", "VethPair");
    }
}
