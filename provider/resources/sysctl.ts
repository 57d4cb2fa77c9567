import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { diffInputs, diffResult, inNamespace } from "../core/diff";
import { inputKeys, NetnsName, Owner, stripUndefined, TargetFields, withoutProvider } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { assertAdoptable, differences } from "../core/adopt";
import { Target, targetId, targetOf } from "../linux/target";
import { netnsId } from "../linux/netns";
import { getSysctl, readSysctlMarker, removeSysctlMarker, setSysctl, SYSCTL_MARKER_DIR, SysctlMarker, sysctlPath, writeSysctlMarker } from "../linux/sysctl";
import { withSchema } from "../core/defaults";

/** Inputs of a {@link SysctlForward}, validated and with defaults filled. */
export const SysctlForwardSchema = z
    .object({
        netns: NetnsName.optional(),
        ipv4: z.boolean().default(true),
        ipv6: z.boolean().default(false),
        restoreOnDelete: z.boolean().default(true),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .refine((a) => a.ipv4 || a.ipv6, { path: ["ipv4"], error: "at least one of ipv4 and ipv6 must be true (otherwise there is nothing to enable)" });
export type SysctlForwardSchema = z.infer<typeof SysctlForwardSchema>;

/**
 * State of a {@link SysctlForward}: the inputs plus, for each sysctl this resource holds, the
 * value found before it set it (0 or 1). `ipv4`/`ipv6` read back true only when the kernel says 1.
 */
export const SysctlForwardOutputFields = z.object({ previousIpv4: z.number().optional(), previousIpv6: z.number().optional() });
export type SysctlForwardOutputs = SysctlForwardSchema & z.infer<typeof SysctlForwardOutputFields>;

/** The two sysctls, and the output that remembers each one's previous value. */
const SETTINGS = {
    ipv4: { key: "net.ipv4.ip_forward", previous: "previousIpv4" },
    ipv6: { key: "net.ipv6.conf.all.forwarding", previous: "previousIpv6" },
} as const;
type Which = keyof typeof SETTINGS;
const WHICH: Which[] = ["ipv4", "ipv6"];

const KEYS = inputKeys(SysctlForwardSchema);

function parse(props: Record<string, unknown>): SysctlForwardSchema {
    const { previousIpv4, previousIpv6, ...rest } = withoutProvider(props);
    return SysctlForwardSchema.parse(rest);
}

/**
 * Sets the sysctl to 1 and returns the value it had before (or `previous`, when this resource
 * already held it). `record` is told that value before anything is set.
 */
async function hold(t: Target, which: Which, netns: string | undefined, previous: number | undefined, record: (previous: number) => Promise<void>): Promise<number> {
    const { key } = SETTINGS[which];
    const current = await getSysctl(t, key, netns);
    if (current === undefined) {
        throw new Error(
            `cannot enable ${which} forwarding in ${inNamespace(netns)}: ` +
                `${sysctlPath(key)} does not exist (is ${which === "ipv6" ? "IPv6 disabled, e.g. ipv6.disable=1" : "IPv4 unavailable"}?)`,
        );
    }
    const found = previous ?? Number(current);
    await record(found);
    if (current !== "1") await setSysctl(t, key, "1", netns);
    return found;
}

/**
 * The previous values this resource recorded in its marker file (see {@link SysctlMarker}) for
 * the namespace as it is now, and a function that records one more before it is set.
 */
async function markerOf(t: Target, a: SysctlForwardSchema): Promise<{
    recorded: Partial<Record<Which, number>>;
    record: (w: Which, previous: number | undefined) => Promise<void>;
}> {
    const inode = a.netns === undefined ? undefined : (await netnsId(t, a.netns))?.inode;
    const found = await readSysctlMarker(t, a.owner);
    const valid = found !== undefined && found.netns === a.netns && found.inode === inode;
    const marker: SysctlMarker = { netns: a.netns, inode, previous: valid ? { ...found.previous } : {} };
    return {
        recorded: { ...marker.previous },
        /** Records the previous value of `w` (undefined: `w` is no longer held). */
        async record(w, previous) {
            if (marker.previous[w] === previous) return;
            if (previous === undefined) delete marker.previous[w];
            else marker.previous[w] = previous;
            await writeSysctlMarker(t, a.owner, marker);
        },
    };
}

/**
 * Gives a held sysctl back: when `restore` is set and it was not 1 before, it is set back to its
 * previous value, but only while it is still 1 (the value this resource set). A value someone
 * changed since is theirs: it is left alone, without failing.
 */
async function release(t: Target, which: Which, netns: string | undefined, previous: number, restore: boolean): Promise<void> {
    if (!restore || previous === 1) return;
    const { key } = SETTINGS[which];
    if ((await getSysctl(t, key, netns)) === "1") await setSysctl(t, key, String(previous), netns);
}

/** True when the resource's namespace is gone (the root namespace never is). */
async function netnsGone(t: Target, netns: string | undefined): Promise<boolean> {
    return netns !== undefined && (await netnsId(t, netns)) === undefined;
}

/**
 * The provider behind {@link SysctlForward}. A sysctl cannot carry an ownership marker: what
 * this resource holds is in its state (`previousIpv4`/`previousIpv6`) and, written before each
 * value is set, in a marker file under {@link SYSCTL_MARKER_DIR} keyed by its owner token. A create
 * run again after a crash between its set and the engine saving state takes the previous values
 * from that file, not the 1 it finds, and so still restores them on delete.
 */
export const sysctlForwardProvider: pulumi.dynamic.ResourceProvider = withSchema(SysctlForwardSchema, {
    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, { keys: KEYS, replace: ["netns"] });
        return diffResult(changed, replaces);
    },

    async create(inputs) {
        const a = parse(inputs);
        const t = targetOf(a);
        const outs: SysctlForwardOutputs = { ...a };
        const held: Which[] = [];
        const { recorded, record } = await markerOf(t, a);
        if (a.adopt) {
            // adopt: forwarding switched on by hand is taken as it is (its previous value is then 1: delete leaves it on).
            const found = Object.fromEntries(await Promise.all(WHICH.filter((w) => a[w] && recorded[w] === undefined).map(async (w) => [w, (await getSysctl(t, SETTINGS[w].key, a.netns)) === "1"])));
            assertAdoptable(`forwarding in ${inNamespace(a.netns)}`, differences(a, { ...a, ...found }, Object.keys(found)));
        }
        try {
            for (const w of WHICH) {
                if (!a[w]) continue;
                outs[SETTINGS[w].previous] = await hold(t, w, a.netns, recorded[w], (p) => record(w, p));
                held.push(w);
            }
        } catch (err) {
            // A failure half-way gives back what this call already set.
            for (const w of held) await release(t, w, a.netns, outs[SETTINGS[w].previous]!, true);
            await removeSysctlMarker(t, a.owner);
            throw err;
        }
        return { id: targetId(t, a.owner), outs: stripUndefined(outs) };
    },

    async read(id, props) {
        const state = props as SysctlForwardOutputs;
        const t = targetOf(state);
        if (await netnsGone(t, state.netns)) return { id: "", props: {} };
        // The state as it is (not re-validated: drift may have turned both flags false).
        const outs = { ...withoutProvider(props) } as unknown as SysctlForwardOutputs;
        for (const w of WHICH) {
            if (state[SETTINGS[w].previous] !== undefined) outs[w] = (await getSysctl(t, SETTINGS[w].key, state.netns)) === "1";
        }
        return { id, props: stripUndefined(outs) };
    },

    /** Turns on what is now wanted, and gives back (see {@link release}) what no longer is. */
    async update(_id, olds, news) {
        const a = parse(news);
        const t = targetOf(a);
        const old = olds as SysctlForwardOutputs;
        const outs: SysctlForwardOutputs = { ...a };
        const { recorded, record } = await markerOf(t, a);
        for (const w of WHICH) {
            const previous = old[SETTINGS[w].previous] ?? recorded[w];
            if (a[w]) outs[SETTINGS[w].previous] = await hold(t, w, a.netns, previous, (p) => record(w, p));
            else if (previous !== undefined) {
                await release(t, w, a.netns, previous, a.restoreOnDelete);
                await record(w, undefined);
            }
        }
        return { outs: stripUndefined(outs) };
    },

    /** Restores the previous values when `restoreOnDelete` (see {@link release}); a namespace that is gone needs nothing. */
    async delete(_id, props) {
        const state = props as SysctlForwardOutputs;
        const t = targetOf(state);
        if (!(await netnsGone(t, state.netns))) {
            for (const w of WHICH) {
                const previous = state[SETTINGS[w].previous];
                if (previous !== undefined) await release(t, w, state.netns, previous, state.restoreOnDelete !== false);
            }
        }
        if (state.owner) await removeSysctlMarker(t, state.owner);
    },
});

/** Arguments of {@link SysctlForward}. */
export interface SysctlForwardArgs extends TargetArgs {
    /** The namespace whose forwarding is turned on. Default: the root namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** Turn on `net.ipv4.ip_forward`. Default: true. */
    ipv4?: pulumi.Input<boolean | undefined>;
    /**
     * Turn on `net.ipv6.conf.all.forwarding` (which also turns forwarding on for every interface,
     * and makes them ignore router advertisements unless accept_ra=2). Default: false.
     */
    ipv6?: pulumi.Input<boolean | undefined>;
    /**
     * On delete, set each sysctl this resource turned on back to its previous value, if it is
     * still 1 (a value changed by someone else since is left alone). Default: true.
     */
    restoreOnDelete?: pulumi.Input<boolean | undefined>;
}

/** SysctlForward's outputs: every input as check normalised it, and what the kernel reports. */
export interface SysctlForward extends ResourceOutputs<SysctlForwardOutputs> {}

/**
 * IP forwarding in a namespace. Equivalent to: `sysctl -w net.ipv4.ip_forward=1` and/or
 * `sysctl -w net.ipv6.conf.all.forwarding=1` (`ip netns exec NS` first when netns is given).
 * Outputs `previousIpv4`/`previousIpv6`: the values found at create, restored on delete.
 */
export class SysctlForward extends pulumi.CustomResource {
    constructor(name: string, args: SysctlForwardArgs = {}, opts?: pulumi.CustomResourceOptions) {
        const r = registration("SysctlForward", name, args, KEYS, inputKeys(SysctlForwardOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
