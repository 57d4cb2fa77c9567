import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { assertAdoptable, differences, sameSet } from "../core/adopt";
import { claimLink, owned } from "../core/claim";
import { diffInputs } from "../core/diff";
import { applyLinkEnd, awaitDad, linkEndLines, readLinkEnd } from "../core/linkend";
import { addressFamily, parsePrefix } from "../core/ip";
import { NetnsResource, TargetInputs } from "../core/resource";
import { checkWith, IfName, InterfaceAddresses, IpAddress, Mtu, NetnsName, Owner, stripUndefined, TargetArgs, withoutProvider } from "../core/schema";
import { deleteLink, deleteLinkWithMac, getLink, linkSetLine, linkTaken, stableMac, vxlanAddLine } from "../linux/link";
import { ipBatch } from "../linux/netns";
import { targetId, targetOf } from "../linux/target";

/** A multicast address (224.0.0.0/4, ff00::/8). */
const isMulticast = (a: string) => {
    const p = parsePrefix(a);
    return !!p && (p.family === 4 ? p.value >> 28n === BigInt(0xe) : p.value >> 120n === BigInt(0xff));
};

/** Inputs of a {@link Vxlan}, validated and with defaults filled. */
export const VxlanArgs = z
    .object({
        name: IfName,
        vni: z.number().int("vni must be a whole number").min(1, "vni must be 1–16777215").max(16777215, "vni must be 1–16777215"),
        local: IpAddress.optional(),
        remote: IpAddress.optional(),
        group: IpAddress.optional(),
        dstPort: z.number().int("dstPort must be a whole number").min(1, "dstPort must be 1–65535").max(65535, "dstPort must be 1–65535").default(4789),
        device: IfName.optional(),
        master: IfName.optional(),
        netns: NetnsName.optional(),
        addresses: InterfaceAddresses,
        mtu: Mtu.optional(),
        up: z.boolean().default(true),
        dad: z.boolean().default(false),
        owner: Owner,
        ...TargetArgs,
    })
    .strict()
    .superRefine((a, ctx) => {
        if ((a.remote === undefined) === (a.group === undefined)) ctx.addIssue({ code: "custom", path: ["remote"], message: "give remote (one peer) or group (a multicast group), exactly one of them" });
        if (a.remote !== undefined && isMulticast(a.remote)) ctx.addIssue({ code: "custom", path: ["remote"], message: `${a.remote} is a multicast address: give it as group` });
        if (a.group !== undefined && !isMulticast(a.group)) ctx.addIssue({ code: "custom", path: ["group"], message: `${a.group} is not a multicast address (224.0.0.0/4 or ff00::/8): a single peer is remote` });
        if (a.group !== undefined && a.device === undefined) ctx.addIssue({ code: "custom", path: ["device"], message: "a multicast group needs the device to join it on" });
        if (a.local !== undefined && isMulticast(a.local)) ctx.addIssue({ code: "custom", path: ["local"], message: "must be an address of this host, not a multicast address" });
        // Only well-formed addresses (a malformed one has its own failure).
        const families = (["local", "remote", "group"] as const).map((k) => [k, a[k] === undefined ? undefined : addressFamily(a[k]!)] as const).filter(([, f]) => f !== undefined);
        for (const [k, f] of families) if (f !== families[0][1]) ctx.addIssue({ code: "custom", path: [k], message: `is IPv${f} but ${families[0][0]} is IPv${families[0][1]}` });
    });
export type VxlanArgs = z.infer<typeof VxlanArgs>;

/** State of a {@link Vxlan}: the inputs plus its MAC address. */
export interface VxlanOutputs extends VxlanArgs {
    mac: string;
}

const KEYS = ["name", "vni", "local", "remote", "group", "dstPort", "device", "master", "netns", "addresses", "mtu", "up", "dad", "owner"] as const;
/** The tunnel's settings are fixed at creation: any change is another device. */
const REPLACE = ["name", "vni", "local", "remote", "group", "dstPort", "device", "netns"];

function outputs(a: VxlanArgs, mac: string): VxlanOutputs {
    return stripUndefined({ ...a, mac });
}

/** The provider behind {@link Vxlan}. */
export const vxlanProvider: pulumi.dynamic.ResourceProvider = {
    async check(_olds, news) {
        return checkWith(VxlanArgs, news);
    },

    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, KEYS, REPLACE, ["mtu"]);
        const collide = replaces.length > 0 && olds.name === news.name && olds.netns === news.netns;
        return { changes: changed.length > 0, replaces, deleteBeforeReplace: collide };
    },

    /** Creates the device in its namespace (where its underlay is) and configures it in the same `ip -batch`; name taken: as Bridge. */
    async create(inputs) {
        const a = VxlanArgs.parse(withoutProvider(inputs));
        const t = targetOf(a);
        const mac = stableMac(a.owner);
        const id = targetId(t, `${a.netns ?? ""}/${a.name}`);
        try {
            await ipBatch(t, a.netns, [vxlanAddLine(a.name, mac, a, a.mtu), ...linkEndLines(a, a.owner, undefined, false)]);
            await awaitDad(t, a);
            return { id, outs: outputs(a, mac) };
        } catch (err) {
            if (!linkTaken(err)) {
                await deleteLinkWithMac(t, a.name, a.netns, mac);
                throw err;
            }
            const { claim, link } = await claimLink(t, a.name, a.netns, a.owner, "vxlan", mac, a.adopt);
            if (claim === "absent") throw err;
            if (claim === "unmarked") {
                const found = { addresses: sameSet(a.addresses, link!.addresses) ? a.addresses : link!.addresses, master: link!.master, mtu: a.mtu === undefined ? undefined : link!.mtu, up: link!.up };
                assertAdoptable(`vxlan "${a.name}" in ${a.netns ? `namespace "${a.netns}"` : "the root namespace"}`, differences(a, found, ["addresses", "master", "mtu", "up"]));
                await ipBatch(t, a.netns, [linkSetLine(a.name, { alias: a.owner })]);
                return { id, outs: outputs(a, link!.mac) };
            }
            await applyLinkEnd(t, a, a.owner, link, true);
            return { id, outs: outputs(a, link!.mac) };
        }
    },

    async read(id, props) {
        const a = props as VxlanOutputs;
        const t = targetOf(a);
        const link = await getLink(t, a.name, a.netns);
        if (!owned(link, a.owner)) return { id: "", props: {} };
        const e = readLinkEnd(a, link);
        return { id, props: stripUndefined({ ...a, addresses: e.addresses, master: e.master, mtu: e.mtu, up: e.up, mac: link.mac }) };
    },

    async update(_id, _olds, news) {
        const a = VxlanArgs.parse(withoutProvider(news));
        const t = targetOf(a);
        const link = await getLink(t, a.name, a.netns);
        if (!owned(link, a.owner)) throw new Error(`vxlan "${a.name}" is gone or no longer carries this resource's marker: run pulumi refresh`);
        await applyLinkEnd(t, a, a.owner, link, true);
        return { outs: outputs(a, link.mac) };
    },

    async delete(_id, props) {
        const a = props as VxlanOutputs;
        const t = targetOf(a);
        if (owned(await getLink(t, a.name, a.netns), a.owner)) await deleteLink(t, a.name, a.netns);
    },
};

/** Arguments of {@link Vxlan}. */
export interface VxlanInputs extends TargetInputs {
    /** The device's name (1–15 characters). */
    name: pulumi.Input<string>;
    /** The VXLAN network identifier, 1–16777215: both ends use the same. */
    vni: pulumi.Input<number>;
    /** This end's underlay address (the source of the tunnel's packets). */
    local?: pulumi.Input<string | undefined>;
    /** The other end's underlay address (point to point); or `group`. */
    remote?: pulumi.Input<string | undefined>;
    /** A multicast group of the underlay (many ends; needs `device`); or `remote`. */
    group?: pulumi.Input<string | undefined>;
    /** UDP port of the tunnel. Default: 4789 (IANA's). */
    dstPort?: pulumi.Input<number | undefined>;
    /** The underlay link. */
    device?: pulumi.Input<string | undefined>;
    /** Bridge (in the same namespace) to attach it to: a LAN spanning hosts. */
    master?: pulumi.Input<string | undefined>;
    /** Namespace of the device and of its underlay; omitted = the root namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** Addresses on the overlay. */
    addresses?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** MTU; omitted = the kernel's (the underlay's less 50), left alone afterwards. */
    mtu?: pulumi.Input<number | undefined>;
    /** Bring it up. Default: true. */
    up?: pulumi.Input<boolean | undefined>;
    /** Duplicate address detection for new IPv6 addresses (see VethPair). Default: false. */
    dad?: pulumi.Input<boolean | undefined>;
}

/**
 * A VXLAN tunnel endpoint: an Ethernet overlay over UDP, point to point (`remote`) or to a multicast
 * group, with a MAC derived from the owner token; on a bridge (`master`) it joins that bridge's LAN to
 * the other ends'. Equivalent to: `ip [-n NS] link add name NAME address MAC type vxlan id VNI local A
 * remote B dev DEV dstport 4789`, then `link set dev NAME alias OWNER [master BR] up` and its addresses, in one `ip -batch`.
 */
export class Vxlan extends NetnsResource {
    declare readonly name: pulumi.Output<string>;
    declare readonly vni: pulumi.Output<number>;
    declare readonly local: pulumi.Output<string | undefined>;
    declare readonly remote: pulumi.Output<string | undefined>;
    declare readonly group: pulumi.Output<string | undefined>;
    declare readonly dstPort: pulumi.Output<number>;
    declare readonly device: pulumi.Output<string | undefined>;
    declare readonly master: pulumi.Output<string | undefined>;
    declare readonly netns: pulumi.Output<string | undefined>;
    declare readonly addresses: pulumi.Output<string[]>;
    declare readonly mtu: pulumi.Output<number | undefined>;
    declare readonly up: pulumi.Output<boolean>;
    declare readonly dad: pulumi.Output<boolean>;
    declare readonly mac: pulumi.Output<string>;

    constructor(name: string, args: VxlanInputs, opts?: pulumi.CustomResourceOptions) {
        super("Vxlan", name, args, KEYS, ["mac"], opts);
    }
}
