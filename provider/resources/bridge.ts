import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { linkResourceProvider } from "../core/link-provider";
import { linkEndLines } from "../core/linkend";
import { IfName, inputKeys, LinkOutputFields, LinkFields, Owner, TargetFields } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { bridgeAddLine } from "../linux/link";

/** Inputs of a {@link Bridge}, validated and with defaults filled. */
export const BridgeSchema = z
    .object({
        name: IfName,
        ...LinkFields,
        owner: Owner,
        ...TargetFields,
    })
    .strict();
export type BridgeSchema = z.infer<typeof BridgeSchema>;

/** State of a {@link Bridge}: the inputs plus its MAC address. */
export type BridgeOutputs = BridgeSchema & z.infer<typeof LinkOutputFields>;

const KEYS = inputKeys(BridgeSchema);


/** The provider behind {@link Bridge} (see {@link linkResourceProvider}): a replacement always has a new name or namespace. */
export const bridgeProvider = linkResourceProvider({
    kind: "bridge",
    schema: BridgeSchema,
    keys: KEYS,
    replace: ["name", "netns"],
    master: false,
    createBatch: (a, mac) => ({ netns: a.netns, lines: [bridgeAddLine(a.name, mac, a.mtu), ...linkEndLines(a, a.owner, undefined, false)] }),
});

/** Arguments of {@link Bridge}. */
export interface BridgeArgs extends TargetArgs {
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
    /** Duplicate address detection for new IPv6 addresses: false (default) adds them `nodad`, usable at once; true waits for DAD (docs/resources.md, "IPv6 addresses are usable when create returns"). */
    dad?: pulumi.Input<boolean | undefined>;
    /**
     * Its MAC address ("0a:bc:de:f0:00:01": unicast, not all zeros), kept when the link is made again;
     * changed in place. Omitted = one derived from the resource's owner token, left alone afterwards.
     */
    mac?: pulumi.Input<string | undefined>;
}

/** Bridge's outputs: every input as check normalised it, and what the kernel reports. */
export interface Bridge extends ResourceOutputs<BridgeOutputs> {}

/**
 * A Linux bridge, with a fixed MAC address derived from its owner token: it does not change as
 * ports come and go, nor when a rename replaces the bridge (neighbours' ARP caches stay valid). Equivalent to: `ip [-n NS] link add name NAME address MAC type bridge`,
 * `ip address add CIDR dev NAME`, `ip link set dev NAME up`, all in one `ip -batch`.
 */
export class Bridge extends pulumi.CustomResource {
    constructor(name: string, args: BridgeArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("Bridge", name, args, KEYS, inputKeys(LinkOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
