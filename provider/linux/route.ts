import { ipBatch, ipIn, ipShow } from "./batch";
import { runUnlessAbsent, type Target } from "./target";

/** The route protocol number that marks routes made by pulumi-netns (`proto 250` in `ip route`). */
export const ROUTE_PROTO = 250;

/** A route as pulumi-netns manages it. `table` is a number or a name iproute2 knows ("main", "local", "default"). */
export interface RouteSpec {
    family: 4 | 6;
    destination: string;
    gateway?: string;
    device?: string;
    metric?: number;
    table?: number | "main" | "local" | "default";
    source?: string;
}

/** A route as the kernel reports it (`ip -json route show`). */
export interface KernelRoute {
    destination: string;
    gateway?: string;
    device?: string;
    metric: number;
    protocol: string;
    source?: string;
}

/** The kernel's metric for a route added without one. */
export function defaultMetric(family: 4 | 6): number {
    return family === 6 ? 1024 : 0;
}

function selector(r: RouteSpec): string[] {
    return [r.destination, "table", String(r.table ?? "main"), "metric", String(r.metric ?? defaultMetric(r.family))];
}

function attributes(r: RouteSpec): string[] {
    return [
        ...(r.gateway ? ["via", r.gateway] : []),
        ...(r.device ? ["dev", r.device] : []),
        ...(r.source ? ["src", r.source] : []),
        "proto",
        String(ROUTE_PROTO),
    ];
}

/** stderr of `ip route show` when there is nothing to show: no such namespace, or a table never used. */
const NOTHING = /Cannot open network namespace|FIB table does not exist/;

/**
 * Reads the route with this destination, table and metric; undefined when there is none (or
 * no such namespace). Equivalent to: `ip -4|-6 [-n NS] -json route show table T exact DEST`.
 */
export async function getRoute(t: Target, r: RouteSpec, netns?: string): Promise<KernelRoute | undefined> {
    const out = await ipShow(t, netns, [`-${r.family}`, "-json", "route", "show", "table", String(r.table ?? "main"), "exact", r.destination], NOTHING);
    if (out === undefined) return undefined;
    const metric = r.metric ?? defaultMetric(r.family);
    const found = (JSON.parse(out || "[]") as any[]).find((j) => (j.metric ?? 0) === metric);
    if (!found) return undefined;
    return {
        destination: found.dst,
        gateway: found.gateway,
        device: found.dev,
        metric,
        protocol: String(found.protocol ?? "boot"), // `ip -json` leaves out the default protocol
        source: found.prefsrc,
    };
}

/**
 * The routes of a namespace's main table as the kernel reports them, with their protocol (routes the
 * kernel adds for addresses have "kernel"). Equivalent to: `ip -4|-6 [-n NS] -json route show`.
 */
export async function listRoutes(t: Target, family: 4 | 6, netns?: string): Promise<(KernelRoute & { type?: string })[]> {
    const out = await ipShow(t, netns, [`-${family}`, "-json", "route", "show"], NOTHING);
    return (JSON.parse(out || "[]") as any[]).map((j) => ({
        destination: j.dst,
        gateway: j.gateway,
        device: j.dev,
        metric: j.metric ?? 0,
        protocol: String(j.protocol ?? "boot"),
        source: j.prefsrc,
        type: j.type,
    }));
}

/**
 * Adds a route marked as ours. Equivalent to: `ip [-n NS] -batch -` reading `route add DEST table T
 * metric M [via GW] [dev DEV] [src SRC] proto 250` (see {@link ipBatch}), i.e. `ip -4|-6 [-n NS] route add …`:
 * a batch line takes no `-4|-6`, so the family is in the destination (IPv6's `default` as `::/0`).
 */
export async function addRoute(t: Target, r: RouteSpec, netns?: string): Promise<void> {
    const destination = r.destination === "default" && r.family === 6 ? "::/0" : r.destination;
    await ipBatch(t, netns, [["route", "add", ...selector({ ...r, destination }), ...attributes(r)].join(" ")]);
}

/** Changes a route in place. Equivalent to: `ip -4|-6 [-n NS] route replace DEST table T metric M [via GW] [dev DEV] [src SRC] proto 250`. */
export async function replaceRoute(t: Target, r: RouteSpec, netns?: string): Promise<void> {
    await t.run([...ipIn(netns), `-${r.family}`, "route", "replace", ...selector(r), ...attributes(r)]);
}

/**
 * Deletes our route (only one marked `proto 250`); one already gone is success.
 * Equivalent to: `ip -4|-6 [-n NS] route delete DEST table T metric M proto 250`.
 */
export async function deleteRoute(t: Target, r: RouteSpec, netns?: string): Promise<void> {
    const argv = [...ipIn(netns), `-${r.family}`, "route", "delete", ...selector(r), "proto", String(ROUTE_PROTO)];
    await runUnlessAbsent(t, argv, /No such process|Cannot open network namespace|Cannot find device/);
}

/**
 * The device of the root namespace's IPv4 default route (the host's uplink), or undefined when
 * there is none. Read-only, and synchronous so a program can use it to fill in its arguments.
 * Equivalent to: `ip -4 -json route show default`.
 */
export function defaultRouteDevice(): string | undefined {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { execFileSync } = require("child_process") as typeof import("child_process");
    try {
        const routes = JSON.parse(execFileSync("ip", ["-4", "-json", "route", "show", "default"], { encoding: "utf8" }) || "[]");
        return routes.find((r: { dev?: string }) => r.dev)?.dev;
    } catch {
        return undefined;
    }
}
