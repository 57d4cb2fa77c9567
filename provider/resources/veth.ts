import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { claimLink, owned } from "../core/claim";
import { allInOrder } from "../core/settle";
import { diffInputs, diffResult, inNamespace } from "../core/diff";
import { applyLinkEnd, applyRate, awaitDad, LinkEnd, linkEndLines, readLinkEnd, readRate } from "../core/linkend";
import { Burst, IfName, inputKeys, InterfaceAddresses, Mac, Mtu, NetnsName, Owner, Rate, stripUndefined, TargetFields, withoutProvider } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { Target, targetId, targetOf } from "../linux/target";
import { deleteLink, deleteLinkWithMac, getLink, kernelHasIpv6, Link, linkAddRan, linkSetLine, linkTaken, stableMac, vethAddLine } from "../linux/link";
import { assertAdoptable, Difference, sameSet } from "../core/adopt";
import { ipBatch, netnsExecLines } from "../linux/batch";
import { withSchema } from "../core/defaults";

/** Inputs of a {@link VethPair}, validated and with defaults filled. */
export const VethPairSchema = z
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
        dad: z.boolean().default(false),
        ipv6LinkLocal: z.boolean().default(true),
        rate: Rate.optional(),
        burst: Burst.optional(),
        mac: Mac.optional(),
        peerMac: Mac.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .refine((a) => a.burst === undefined || a.rate !== undefined, { message: "burst needs a rate", path: ["burst"] })
    .refine((a) => a.mac === undefined || a.mac !== a.peerMac, { message: "peerMac must differ from mac (the two ends of a pair are two stations)", path: ["peerMac"] })
    .refine((a) => !(a.name === a.peerName && a.netns === a.peerNetns), {
        message: "peerName must differ from name when both ends are in the same namespace",
        path: ["peerName"],
    });
export type VethPairSchema = z.infer<typeof VethPairSchema>;

/** State of a {@link VethPair}: the inputs plus both ends' MAC addresses. */
/** What a {@link VethPair} outputs besides its inputs: both ends' MAC addresses. */
export const VethPairOutputFields = z.object({ mac: z.string(), peerMac: z.string() });
export type VethPairOutputs = VethPairSchema & z.infer<typeof VethPairOutputFields>;

const KEYS = inputKeys(VethPairSchema);
const DIFF = { keys: KEYS, replace: ["name", "peerName", "netns", "peerNetns"], unmanagedWhenOmitted: ["mtu", "mac", "peerMac"], references: ["master", "peerMaster"] };

/**
 * Both ends as declared. Link-local generation is set only when `ipv6LinkLocal` is false, or becomes
 * true again (`linkLocal`), and never on a kernel without IPv6 (`v6` false), where there is none anyway.
 */
function ends(a: VethPairSchema, linkLocal: boolean | undefined = a.ipv6LinkLocal === false ? false : undefined, v6 = true): [LinkEnd, LinkEnd] {
    const ll = v6 ? linkLocal : undefined;
    return [
        { name: a.name, netns: a.netns, addresses: a.addresses, master: a.master, mtu: a.mtu, up: a.up, mac: a.mac, dad: a.dad, linkLocal: ll, rate: a.rate, burst: a.burst },
        { name: a.peerName, netns: a.peerNetns, addresses: a.peerAddresses, master: a.peerMaster, mtu: a.mtu, up: a.up, mac: a.peerMac, dad: a.dad, linkLocal: ll, rate: a.rate, burst: a.burst },
    ];
}

function outputs(a: VethPairSchema, mac: string, peerMac: string): VethPairOutputs {
    return stripUndefined({ ...a, mac, peerMac });
}

/** Both ends as the kernel has them, if both exist and carry our marker; else undefined. */
async function ownedEnds(t: Target, a: VethPairSchema): Promise<[Link, Link] | undefined> {
    const [end, peer] = await allInOrder([getLink(t, a.name, a.netns), getLink(t, a.peerName, a.peerNetns)]);
    return owned(end, a.owner) && owned(peer, a.owner) ? [end, peer] : undefined;
}

/**
 * `adopt`: takes over a pair made by hand (neither end carries a marker) when it is this pair, as
 * declared: the two ends are each other's peers, in the declared namespaces, with the declared
 * addresses, masters, mtu, state and MACs (when declared). Then writes only the marker (each end's alias); else fails
 * listing the differences, changing nothing.
 */
async function adoptPair(t: Target, a: VethPairSchema, found: (Link | undefined)[]): Promise<VethPairOutputs> {
    const both = ends(a);
    const what = `veth pair "${a.name}"/"${a.peerName}"`;
    const [end, peer] = found;
    if (!end || !peer) {
        const missing = both[end ? 1 : 0];
        assertAdoptable(what, [{ property: end ? "peerName" : "name", declared: `${missing.name} in ${inNamespace(missing.netns)}`, found: undefined }]);
    }
    const peered = (x: Link, y: Link, sameNs: boolean) => (sameNs ? x.peer?.name === y.name : x.peer?.ifindex === y.ifindex);
    const sameNs = a.netns === a.peerNetns;
    const diffs: Difference[] = [];
    if (!peered(end!, peer!, sameNs) || !peered(peer!, end!, sameNs)) {
        diffs.push({ property: "peerName", declared: `${a.peerName} in ${inNamespace(a.peerNetns)}`, found: "the ends of two different pairs" });
    }
    both.forEach((e, i) => {
        const l = found[i]!;
        const prefix = i === 0 ? "" : "peer";
        const cap = (p: string) => (prefix ? `${prefix}${p[0].toUpperCase()}${p.slice(1)}` : p);
        if (!sameSet(e.addresses, l.addresses)) diffs.push({ property: cap("addresses"), declared: e.addresses, found: l.addresses });
        if (e.master !== l.master) diffs.push({ property: cap("master"), declared: e.master, found: l.master });
        // mtu and up are both ends': the peer's difference is named as such.
        const shared = (p: string) => (i === 0 ? p : `${p} (of ${e.name})`);
        if (e.mtu !== undefined && e.mtu !== l.mtu) diffs.push({ property: shared("mtu"), declared: e.mtu, found: l.mtu });
        if (e.up !== l.up) diffs.push({ property: shared("up"), declared: e.up, found: l.up });
        if (e.linkLocal === false && l.linkLocalAddresses.length > 0) diffs.push({ property: shared("ipv6LinkLocal"), declared: false, found: l.linkLocalAddresses });
        if (e.mac !== undefined && e.mac !== l.mac) diffs.push({ property: i === 0 ? "mac" : "peerMac", declared: e.mac, found: l.mac });
    });
    assertAdoptable(what, diffs);
    await allInOrder(both.map((e) => ipBatch(t, e.netns, [linkSetLine(e.name, { alias: a.owner })])));
    return outputs(a, end!.mac, peer!.mac);
}

/** The provider behind {@link VethPair}. */
export const vethPairProvider: pulumi.dynamic.ResourceProvider = withSchema(VethPairSchema, {
    async diff(_id, olds, news) {
        // State written before `dad` and `ipv6LinkLocal` existed has neither: withSchema fills in their defaults, false and true, as they were.
        const { changed, replaces } = diffInputs(olds, news, DIFF);
        return diffResult(changed, replaces);
    },

    /**
     * Creates the pair optimistically and configures both ends, in one `ip -batch` that runs where
     * the end in the root namespace (or the first end) is: `link add`, that end's settings and
     * addresses, then the other end's, through `netns exec` when it is in another namespace. When a
     * name is taken, adopts the pair only if both ends carry our marker (a crash before the engine
     * saved state), else fails naming what exists. Any other failure deletes the pair only if this
     * call created it (it has our MAC: one derived from the owner token, or a declared one once the
     * batch is known to have run its `link add`, as another link may have a declared MAC).
     */
    async create(inputs) {
        const a = VethPairSchema.parse(withoutProvider(inputs));
        const t = targetOf(a);
        // Only MACs derived from the owner token identify the ends as ours before they have their alias.
        const derived = [a.mac === undefined ? stableMac(`${a.owner}/end`) : undefined, a.peerMac === undefined ? stableMac(`${a.owner}/peer`) : undefined];
        const macs = [a.mac ?? derived[0]!, a.peerMac ?? derived[1]!];
        const id = targetId(t, `${a.netns ?? ""}/${a.name}`);
        // No link-local on a kernel without IPv6 is already so: nothing to set (`addrgenmode` would fail).
        const both = ends(a, undefined, a.ipv6LinkLocal || (await kernelHasIpv6(t)));
        // The root namespace has no name to give `peer … netns` or `netns exec`: a pair with an end there is made from there.
        const [i, j] = a.netns !== undefined && a.peerNetns === undefined ? [1, 0] : [0, 1];
        const [here, there] = [both[i], both[j]];
        const thereLines = linkEndLines(there, a.owner, undefined, false);
        let made = false;
        try {
            await ipBatch(t, here.netns, [
                vethAddLine({ name: here.name, mac: macs[i] }, { name: there.name, netns: there.netns, mac: macs[j] }, a.mtu),
                ...linkEndLines(here, a.owner, undefined, false),
                ...(there.netns === here.netns ? thereLines : netnsExecLines(there.netns!, thereLines)),
            ]);
            made = true;
            await allInOrder(both.map((e) => awaitDad(t, e)));
            await allInOrder(both.map((e) => applyRate(t, e, a.owner, true))); // both directions: each end's egress
        } catch (err) {
            if (!linkTaken(err)) {
                if (derived[i] !== undefined || made || linkAddRan(err)) await deleteLinkWithMac(t, here.name, here.netns, macs[i]);
                throw err;
            }
            const claims = await allInOrder(both.map((e, k) => claimLink(t, e.name, e.netns, a.owner, "veth", derived[k], a.adopt)));
            if (claims.some((c) => c.claim === "unmarked")) return { id, outs: await adoptPair(t, a, claims.map((c) => c.link)) };
            if (claims.some((c) => c.claim !== "ours")) throw err;
            await allInOrder(both.map((e, k) => applyLinkEnd(t, e, a.owner, claims[k].link, true)));
            const [l0, l1] = claims.map((c) => c.link!);
            return { id, outs: outputs(a, a.mac ?? l0.mac, a.peerMac ?? l1.mac) };
        }
        return { id, outs: outputs(a, macs[0], macs[1]) };
    },

    async read(id, props) {
        const a = props as VethPairOutputs;
        const t = targetOf(a);
        const links = await ownedEnds(t, a);
        if (!links) return { id: "", props: {} };
        const [e, p] = ends(a).map((end, i) => readLinkEnd(end, links[i]));
        // Both ends' limits: one gone shows as none, one changed as its rate (drift either way).
        const rates = a.rate === undefined ? [] : await allInOrder(ends(a).map((end) => readRate(t, end, a.owner)));
        const rate = rates.includes(undefined) ? undefined : rates.find((r) => r !== a.rate) ?? a.rate;
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
                ipv6LinkLocal: a.ipv6LinkLocal === false ? e.linkLocal! || p.linkLocal! : a.ipv6LinkLocal,
                rate,
                mac: links[0].mac,
                peerMac: links[1].mac,
            }),
        };
    },

    async update(_id, olds, news) {
        const a = VethPairSchema.parse(withoutProvider(news));
        const t = targetOf(a);
        const links = await ownedEnds(t, a);
        if (!links) throw new Error(`veth pair "${a.name}"/"${a.peerName}" is gone or no longer carries this resource's marker: run pulumi refresh`);
        // Link-local generation given back only when it was taken away (the kernel's default otherwise left alone).
        const back = a.ipv6LinkLocal && (olds as VethPairOutputs).ipv6LinkLocal === false ? true : undefined;
        const linkLocal = a.ipv6LinkLocal ? back : false;
        const both = ends(a, linkLocal, linkLocal === undefined || (await kernelHasIpv6(t)));
        await allInOrder(both.map((e, i) => applyLinkEnd(t, e, a.owner, links[i], true)));
        if (a.rate !== undefined || (olds as VethPairOutputs).rate !== undefined) await allInOrder(ends(a).map((e) => applyRate(t, e, a.owner, false)));
        return { outs: outputs(a, a.mac ?? links[0].mac, a.peerMac ?? links[1].mac) };
    },

    async delete(_id, props) {
        const a = props as VethPairOutputs;
        const t = targetOf(a);
        // Deleting one end removes both; a pair already gone, or no longer ours, is left alone.
        if (owned(await getLink(t, a.name, a.netns), a.owner)) {
            await deleteLink(t, a.name, a.netns);
        } else if (owned(await getLink(t, a.peerName, a.peerNetns), a.owner)) {
            await deleteLink(t, a.peerName, a.peerNetns);
        }
    },
});

/** Arguments of {@link VethPair}. */
export interface VethPairArgs extends TargetArgs {
    /** Name of the first end (1–15 characters). */
    name: pulumi.Input<string>;
    /** Name of the other end. */
    peerName: pulumi.Input<string>;
    /** Namespace of the first end; omitted = the root (host) namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** Namespace of the other end; omitted = the root namespace. */
    peerNetns?: pulumi.Input<string | undefined>;
    /** Addresses of the first end, "10.1.1.1/24" or "fd00::1/64". */
    addresses?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** Addresses of the other end. */
    peerAddresses?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** Bridge (in the first end's namespace) to attach the first end to. */
    master?: pulumi.Input<string | undefined>;
    /** Bridge (in the other end's namespace) to attach the other end to. */
    peerMaster?: pulumi.Input<string | undefined>;
    /** MTU of both ends; omitted = the kernel's default, left alone afterwards. */
    mtu?: pulumi.Input<number | undefined>;
    /** Bring both ends up. Default: true. */
    up?: pulumi.Input<boolean | undefined>;
    /** Duplicate address detection for new IPv6 addresses: false (default) adds them `nodad`, usable at once; true waits for DAD (docs/resources.md, "IPv6 addresses are usable when create returns"). */
    dad?: pulumi.Input<boolean | undefined>;
    /**
     * An IPv6 link-local address on both ends, as the kernel gives every link by default. false: none
     * (`addrgenmode none`), so neither end sends IPv6 on its own (duplicate address detection, MLD
     * reports, router solicitations): on a bridge of many ports, each such packet is flooded to every
     * port (docs/bridged-network.md). Declared IPv6 addresses still work. Default: true.
     */
    ipv6LinkLocal?: pulumi.Input<boolean | undefined>;
    /** A rate limit in both directions ("20mbit"): a tbf on each end's egress. Omitted = none. */
    rate?: pulumi.Input<string | undefined>;
    /** The rate limit's burst ("32kb"). Default: 10 ms at the rate, at least 32 kB. */
    burst?: pulumi.Input<string | undefined>;
    /**
     * The first end's MAC address ("0a:bc:de:f0:00:01": unicast, not all zeros), kept when the pair is
     * made again; changed in place. Omitted = one derived from the owner token, left alone afterwards.
     */
    mac?: pulumi.Input<string | undefined>;
    /** The other end's MAC address, as `mac`; it must differ from `mac`. */
    peerMac?: pulumi.Input<string | undefined>;
}

/** VethPair's outputs: every input as check normalised it, and what the kernel reports. */
export interface VethPair extends ResourceOutputs<VethPairOutputs> {}

/**
 * A veth pair with each end created directly in its namespace, with the declared MAC addresses
 * (`mac`, `peerMac`), else ones derived from the owner token (stable across replacements either way). Equivalent to:
 * `ip link add name NAME address MAC netns NS type veth peer name PEER address MAC netns PEERNS`, then per end
 * `ip -n NS address add CIDR dev NAME`, `ip -n NS link set dev NAME master BR up`, all in one `ip -batch`.
 */
export class VethPair extends pulumi.CustomResource {
    constructor(name: string, args: VethPairArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("VethPair", name, args, KEYS, inputKeys(VethPairOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
