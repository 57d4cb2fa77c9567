import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { diffInputs, diffResult, inNamespace } from "../core/diff";
import { addressFamily, canonicalPrefix, parsePrefix } from "../core/ip";
import { checkFamilies, FamilyField, IfName, inputKeys, IpAddress, isUnknown, NetnsName, networkProblem, Owner, stripUndefined, TargetFields, withoutProvider } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { assertAdoptable, differences } from "../core/adopt";
import { targetId, targetOf } from "../linux/target";
import { CommandError } from "../linux/exec";
import { addRoute, defaultMetric, deleteRoute, getRoute, replaceRoute, ROUTE_PROTO, RouteSpec } from "../linux/route";
import { withSchema } from "../core/defaults";

/** The tables iproute2 knows by name (`/etc/iproute2/rt_tables`): 254, 255 and 253. */
const TABLE_NAMES = ["main", "local", "default"] as const;

/** Inputs of a {@link Route}, validated and with defaults filled. */
export const RouteSchema = z
    .object({
        destination: z
            .string({ error: 'must be "default" or a network prefix such as 10.1.0.0/16' })
            .superRefine((s, ctx) => {
                const why = s === "default" ? undefined : networkProblem(s);
                if (why) ctx.addIssue({ code: "custom", message: `must be "default" or a network prefix: ${why.replace(/^must be a network prefix, /, "")}` });
            })
            .transform((s) => (s === "default" ? s : canonicalPrefix(s))),
        gateway: IpAddress.optional(),
        device: IfName.optional(),
        netns: NetnsName.optional(),
        metric: z.number().int("metric must be a whole number").min(0).max(4294967295).optional(),
        table: z.union([z.enum(TABLE_NAMES), z.number().int().min(1).max(4294967295)], { error: 'must be "main", "local", "default" or a table number 1–4294967295' }).default("main"),
        source: IpAddress.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        if (a.gateway === undefined && a.device === undefined) {
            ctx.addIssue({ code: "custom", path: ["gateway"], message: "a route needs a gateway or a device (or both)" });
        }
        checkFamilies(ctx, [["destination", a.destination === "default" ? undefined : a.destination], ["gateway", a.gateway], ["source", a.source]]);
    });
export type RouteSchema = z.infer<typeof RouteSchema>;

/** The family of a destination, gateway or source; undefined for "default", absent or unknown values. */
function familyOf(v: string | undefined): 4 | 6 | undefined {
    if (v === undefined || v === "default" || isUnknown(v)) return undefined;
    return v.includes("/") ? parsePrefix(v)?.family : addressFamily(v);
}

/** State of a {@link Route}: the inputs plus its family. */
export const RouteOutputFields = z.object({ family: FamilyField });
export type RouteOutputs = RouteSchema & z.infer<typeof RouteOutputFields>;

const KEYS = inputKeys(RouteSchema);
/** What identifies a route to the kernel: changing any of these makes a new route. */
const IDENTITY = ["destination", "netns", "metric", "table"];

function spec(a: RouteSchema): RouteSpec {
    const family = familyOf(a.destination) ?? familyOf(a.gateway) ?? familyOf(a.source) ?? 4;
    return { family, destination: a.destination, gateway: a.gateway, device: a.device, metric: a.metric, table: a.table, source: a.source };
}

function outputs(a: RouteSchema): RouteOutputs {
    return stripUndefined({ ...a, family: spec(a).family });
}

/** stderr of `ip route add|replace` when no link of the namespace has an address on the gateway's network (IPv4, IPv6). */
const GATEWAY_UNREACHABLE = /Nexthop has invalid gateway|No route to host|Network is unreachable/;

/**
 * The kernel's bare "Nexthop has invalid gateway" in words that say what it means and how to fix it:
 * most often the link holding the gateway's network is made by this stack, but the route does not
 * depend on it, so the engine ran the route first (and a second `up` then succeeds, hiding it).
 */
function explainGateway(err: unknown, a: RouteSchema): unknown {
    if (!(err instanceof CommandError && a.gateway && GATEWAY_UNREACHABLE.test(err.stderr))) return err;
    const where = inNamespace(a.netns);
    return new Error(
        `gateway ${a.gateway} is not reachable in ${where}: no link there has an address on its network (yet)${a.device ? ` (device ${a.device})` : ""}. ` +
            `If a link of this stack will hold that network (a VethPair or Bridge address), make the route depend on it: ` +
            `pass its output (e.g. netns: veth.peerNetns, device: veth.peerName) or add { dependsOn: [veth] }; ` +
            `otherwise give a gateway inside one of the networks of ${where}. (${err.message})`,
        { cause: err },
    );
}

/** The provider behind {@link Route}. */
export const routeProvider: pulumi.dynamic.ResourceProvider = withSchema(RouteSchema, {
    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, { keys: KEYS, replace: IDENTITY, references: ["device", "gateway", "source"] });
        // A change of family (a v4 default route becoming a v6 one) is a different route too.
        const newFamily = familyOf(news.destination as string) ?? familyOf(news.gateway as string) ?? familyOf(news.source as string) ?? 4;
        if (newFamily !== olds.family) {
            replaces.push(...changed.filter((k) => ["gateway", "source"].includes(k)));
        }
        return diffResult(changed, replaces);
    },

    /** Adds the route optimistically (one `ip route add`); if it exists, adopts it only when it is ours (`proto 250`). */
    async create(inputs) {
        const a = RouteSchema.parse(withoutProvider(inputs));
        const t = targetOf(a);
        const r = spec(a);
        const id = targetId(t, [a.netns ?? "", a.table, a.destination, r.metric ?? ""].join("/"));
        const existing = a.adopt ? await getRoute(t, r, a.netns) : undefined;
        if (existing && existing.protocol !== String(ROUTE_PROTO)) {
            // adopt: a route made by hand, taken over as it is; `ip route replace … proto 250` marks it in one step (never absent).
            const found = { gateway: existing.gateway, device: a.device === undefined ? undefined : existing.device, source: existing.source };
            assertAdoptable(`the route to ${a.destination} in ${inNamespace(a.netns)}`, differences(a, found, ["gateway", "device", "source"]));
            await replaceRoute(t, { ...r, device: existing.device }, a.netns);
            return { id, outs: outputs(a) };
        }
        try {
            await addRoute(t, r, a.netns);
        } catch (err) {
            if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw explainGateway(err, a);
            const existing = await getRoute(t, r, a.netns);
            if (existing?.protocol !== String(ROUTE_PROTO)) {
                throw new Error(
                    `a route to ${a.destination} (table ${a.table}, metric ${r.metric ?? defaultMetric(r.family)}) already exists in ` +
                        `${inNamespace(a.netns)} and was not made by pulumi-netns ` +
                        `(proto ${existing?.protocol ?? "?"}): delete it first or give this route another metric or table`,
                );
            }
            await replaceRoute(t, r, a.netns); // ours, left by a create whose result was never saved: adopt it
        }
        return { id, outs: outputs(a) };
    },

    async read(id, props) {
        const a = props as RouteOutputs;
        const t = targetOf(a);
        const found = await getRoute(t, spec(a), a.netns);
        if (!found || found.protocol !== String(ROUTE_PROTO)) return { id: "", props: {} };
        return {
            id,
            props: stripUndefined({
                ...a,
                gateway: found.gateway,
                device: a.device === undefined ? undefined : found.device,
                source: a.source === undefined ? undefined : found.source,
            }),
        };
    },

    async update(_id, _olds, news) {
        const a = RouteSchema.parse(withoutProvider(news));
        const t = targetOf(a);
        // `ip route replace` would take over a route someone else made: only ours (proto 250) is changed.
        if ((await getRoute(t, spec(a), a.netns))?.protocol !== String(ROUTE_PROTO)) {
            throw new Error(`the route to ${a.destination} is gone or no longer made by pulumi-netns (proto ${ROUTE_PROTO}): run pulumi refresh`);
        }
        await replaceRoute(t, spec(a), a.netns).catch((err) => {
            throw explainGateway(err, a);
        });
        return { outs: outputs(a) };
    },

    async delete(_id, props) {
        const a = props as RouteOutputs;
        const t = targetOf(a);
        await deleteRoute(t, spec(a), a.netns);
    },
});

/** Arguments of {@link Route}. */
export interface RouteArgs extends TargetArgs {
    /** "default" or a network prefix, IPv4 or IPv6 ("10.2.0.0/16", "fd00:2::/64"). */
    destination: pulumi.Input<string>;
    /** Next hop address. At least one of gateway and device is required. */
    gateway?: pulumi.Input<string | undefined>;
    /** Outgoing interface. */
    device?: pulumi.Input<string | undefined>;
    /** Namespace whose routing table gets the route; omitted = the root namespace. */
    netns?: pulumi.Input<string | undefined>;
    /** Route metric; omitted = the kernel's default (0 for IPv4, 1024 for IPv6). */
    metric?: pulumi.Input<number | undefined>;
    /** Routing table: "main" (default), "local", "default" or a number. */
    table?: pulumi.Input<number | "main" | "local" | "default" | undefined>;
    /** Preferred source address (`src`). */
    source?: pulumi.Input<string | undefined>;
}

/** Route's outputs: every input as check normalised it, and what the kernel reports. */
export interface Route extends ResourceOutputs<RouteOutputs> {}

/**
 * A route. Equivalent to: `ip [-n NS] route add DEST [via GW] [dev DEV] [metric M] [table T] [src S] proto 250`
 * (the protocol number marks it as made by pulumi-netns).
 */
export class Route extends pulumi.CustomResource {
    constructor(name: string, args: RouteArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("Route", name, args, KEYS, inputKeys(RouteOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
