import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { linkResourceProvider } from "../core/link-provider";
import { linkEndLines } from "../core/linkend";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { IfName, inputKeys, LinkOutputFields, LinkFields, Owner, TargetFields } from "../core/schema";
import { getLink, MACVLAN_MODES, macvlanAddLine } from "../linux/link";
import { netnsExecLines } from "../linux/batch";

/** Inputs of a {@link Macvlan}, validated and with defaults filled. */
export const MacvlanSchema = z
    .object({
        name: IfName,
        parent: IfName,
        mode: z.enum(MACVLAN_MODES, { error: `must be one of ${MACVLAN_MODES.join(", ")}` }).default("bridge"),
        ...LinkFields,
        owner: Owner,
        ...TargetFields,
    })
    .strict();
export type MacvlanSchema = z.infer<typeof MacvlanSchema>;

/** State of a {@link Macvlan}: the inputs plus its MAC address. */
export type MacvlanOutputs = MacvlanSchema & z.infer<typeof LinkOutputFields>;

const KEYS = inputKeys(MacvlanSchema);


/**
 * The provider behind {@link Macvlan} (see {@link linkResourceProvider}): made on its parent (in the
 * root namespace) directly in its namespace, in one `ip -batch` run in the root namespace (the
 * settings through `netns exec`). A parent that is not in the root namespace fails before anything is made.
 */
export const macvlanProvider = linkResourceProvider({
    kind: "macvlan",
    schema: MacvlanSchema,
    keys: KEYS,
    replace: ["name", "parent", "mode", "netns"],
    master: false,
    async beforeCreate(t, a) {
        if (!(await getLink(t, a.parent))) {
            throw new Error(`parent "${a.parent}" of macvlan "${a.name}" is not a link of the root namespace: a macvlan's parent must be there (its uplink); nothing was made`);
        }
    },
    createBatch(a, mac) {
        const settings = linkEndLines(a, a.owner, undefined, false);
        return { netns: undefined, lines: [macvlanAddLine(a.name, a.parent, mac, a.mode, a.netns, a.mtu), ...(a.netns ? netnsExecLines(a.netns, settings) : settings)] };
    },
});

/** Arguments of {@link Macvlan}. */
export interface MacvlanArgs extends TargetArgs {
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
    /**
     * Its MAC address ("0a:bc:de:f0:00:01": unicast, not all zeros), kept when the link is made again;
     * changed in place. Omitted = one derived from the resource's owner token, left alone afterwards.
     */
    mac?: pulumi.Input<string | undefined>;
}

/** Macvlan's outputs: every input as check normalised it, and what the kernel reports. */
export interface Macvlan extends ResourceOutputs<MacvlanOutputs> {}

/**
 * A macvlan: a namespace straight on the parent's network, with its own MAC (derived from the
 * owner token). Equivalent to: `ip link add link PARENT name NAME address MAC netns NS type macvlan
 * mode MODE`, then `ip -n NS address add CIDR dev NAME` and `ip -n NS link set dev NAME alias OWNER up`, in one `ip -batch`.
 */
export class Macvlan extends pulumi.CustomResource {
    constructor(name: string, args: MacvlanArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("Macvlan", name, args, KEYS, inputKeys(LinkOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
