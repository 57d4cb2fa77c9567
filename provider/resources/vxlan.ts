import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { linkResourceProvider } from "../core/link-provider";
import { linkEndLines } from "../core/linkend";
import { addressFamily, isMulticast } from "../core/ip";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { IfName, inputKeys, LinkOutputFields, IpAddress, LinkFields, Owner, TargetFields } from "../core/schema";
import { getFloodRemotes, setFloodRemotes } from "../linux/fdb";
import { vxlanAddLine } from "../linux/link";
import { sameSet } from "../core/adopt";

/** A VXLAN network identifier: 1–16777215 (24 bits; 0 is reserved). */
export const Vni = z.number().int("vni must be a whole number").min(1, "vni must be 1–16777215").max(16777215, "vni must be 1–16777215");
/** The tunnel's UDP port; default 4789 (IANA's). */
export const VxlanPort = z.number().int("dstPort must be a whole number").min(1, "dstPort must be 1–65535").max(65535, "dstPort must be 1–65535").default(4789);

/** Inputs of a {@link Vxlan}, validated and with defaults filled. */
export const VxlanSchema = z
    .object({
        name: IfName,
        vni: Vni,
        local: IpAddress.optional(),
        remote: IpAddress.optional(),
        remotes: z.array(IpAddress).refine((list) => new Set(list).size === list.length, "must not list the same address twice").optional(),
        group: IpAddress.optional(),
        dstPort: VxlanPort,
        device: IfName.optional(),
        master: IfName.optional(),
        ...LinkFields,
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        const given = (["remote", "remotes", "group"] as const).filter((k) => a[k] !== undefined);
        if (given.length !== 1) ctx.addIssue({ code: "custom", path: [given[1] ?? "remote"], message: "give remote (one peer), remotes (a list of peers) or group (a multicast group), exactly one of them" });
        (a.remotes ?? []).forEach((r, i) => {
            if (isMulticast(r)) ctx.addIssue({ code: "custom", path: ["remotes", i], message: `${r} is a multicast address: give it as group` });
        });
        // A device made without remote or group is IPv4 unless `local` says otherwise: the kernel would refuse IPv6 entries.
        if (a.local === undefined && (a.remotes ?? []).some((r) => addressFamily(r) === 6)) ctx.addIssue({ code: "custom", path: ["local"], message: "IPv6 remotes need this end's IPv6 address as local (without one the device is IPv4)" });
        if (a.remote !== undefined && isMulticast(a.remote)) ctx.addIssue({ code: "custom", path: ["remote"], message: `${a.remote} is a multicast address: give it as group` });
        if (a.group !== undefined && !isMulticast(a.group)) ctx.addIssue({ code: "custom", path: ["group"], message: `${a.group} is not a multicast address (224.0.0.0/4 or ff00::/8): a single peer is remote` });
        if (a.group !== undefined && a.device === undefined) ctx.addIssue({ code: "custom", path: ["device"], message: "a multicast group needs the device to join it on" });
        if (a.local !== undefined && isMulticast(a.local)) ctx.addIssue({ code: "custom", path: ["local"], message: "must be an address of this host, not a multicast address" });
        // Only well-formed addresses (a malformed one has its own failure).
        const families = [
            ...(["local", "remote", "group"] as const).map((k) => [k, a[k] === undefined ? undefined : addressFamily(a[k]!)] as const),
            ...(a.remotes ?? []).map((r, i) => [`remotes.${i}`, addressFamily(r)] as const),
        ].filter(([, f]) => f !== undefined);
        for (const [k, f] of families) if (f !== families[0][1]) ctx.addIssue({ code: "custom", path: k.split(".").map((p) => (/^\d+$/.test(p) ? Number(p) : p)), message: `is IPv${f} but ${families[0][0]} is IPv${families[0][1]}` });
    });
export type VxlanSchema = z.infer<typeof VxlanSchema>;

/** State of a {@link Vxlan}: the inputs plus its MAC address. */
export type VxlanOutputs = VxlanSchema & z.infer<typeof LinkOutputFields>;

const KEYS = inputKeys(VxlanSchema);
/** The tunnel's settings are fixed at creation: any change is another device (but `remotes`, a list the device keeps in its fdb, is updated in place). */
const REPLACE = ["name", "vni", "local", "remote", "group", "dstPort", "device", "netns"];


/**
 * The provider behind {@link Vxlan} (see {@link linkResourceProvider}): made in the namespace of its
 * underlay. With `remotes`, the device is made without a peer and its flood list is then written
 * (one `bridge -batch`); read reports the list the kernel has (in the declared order when it is the
 * same set), update appends and deletes only the entries that differ, and a failed create deletes the
 * device it made, entries and all.
 */
export const vxlanProvider = linkResourceProvider({
    kind: "vxlan",
    schema: VxlanSchema,
    keys: KEYS,
    replace: REPLACE,
    master: true,
    createBatch: (a, mac) => ({ netns: a.netns, lines: [vxlanAddLine(a.name, mac, a, a.mtu), ...linkEndLines(a, a.owner, undefined, false)] }),
    extra: {
        keys: ["remotes"],
        async read(t, a) {
            if (a.remotes === undefined) return {}; // a point-to-point device's one entry is the kernel's, from `remote`
            const found = (await getFloodRemotes(t, a.name, a.netns)) ?? [];
            return { remotes: sameSet(found, a.remotes) ? a.remotes : found };
        },
        async apply(t, a, current) {
            if (a.remotes === undefined) return;
            await setFloodRemotes(t, a.name, a.netns, current?.remotes ?? [], a.remotes);
        },
    },
});

/** Arguments of {@link Vxlan}. */
export interface VxlanArgs extends TargetArgs {
    /** The device's name (1–15 characters). */
    name: pulumi.Input<string>;
    /** The VXLAN network identifier, 1–16777215: both ends use the same. */
    vni: pulumi.Input<number>;
    /** This end's underlay address (the source of the tunnel's packets). */
    local?: pulumi.Input<string | undefined>;
    /** The other end's underlay address (point to point); or `remotes`, or `group`. */
    remote?: pulumi.Input<string | undefined>;
    /**
     * The other ends' underlay addresses, for a LAN of more than two hosts without multicast: the
     * device's flood list (head-end replication: broadcasts go to each). Changed in place. Or `remote`, or `group`.
     */
    remotes?: pulumi.Input<pulumi.Input<string>[] | undefined>;
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
    /**
     * Its MAC address ("0a:bc:de:f0:00:01": unicast, not all zeros), kept when the link is made again;
     * changed in place. Omitted = one derived from the resource's owner token, left alone afterwards.
     */
    mac?: pulumi.Input<string | undefined>;
}

/** Vxlan's outputs: every input as check normalised it, and what the kernel reports. */
export interface Vxlan extends ResourceOutputs<VxlanOutputs> {}

/**
 * A VXLAN tunnel endpoint: an Ethernet overlay over UDP, point to point (`remote`), to a list of
 * peers (`remotes`) or to a multicast group, with a MAC derived from the owner token; on a bridge
 * (`master`) it joins that bridge's LAN to the other ends'. Equivalent to: `ip [-n NS] link add name
 * NAME address MAC type vxlan id VNI local A remote B dev DEV dstport 4789`, then `link set dev NAME
 * alias OWNER [master BR] up` and its addresses, in one `ip -batch`; with `remotes`, `bridge fdb
 * append 00:00:00:00:00:00 dev NAME dst R self` per peer, in one `bridge -batch`.
 */
export class Vxlan extends pulumi.CustomResource {
    constructor(name: string, args: VxlanArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("Vxlan", name, args, KEYS, inputKeys(LinkOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
