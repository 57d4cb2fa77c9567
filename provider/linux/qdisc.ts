/**
 * Rate limits on links: a token bucket filter (tbf) as the root qdisc of the link's egress, with a
 * handle (its major number) derived from the owner token: pulumi-netns changes or deletes a root qdisc
 * only when it is a tbf with that handle (`tc -j qdisc show` says so), never another's.
 */
import { ipIn } from "./batch";
import { runUnlessAbsent, type Target } from "./target";

/** The `tc` argv prefix for a namespace: `tc [-n NS]`. */
function tcIn(netns: string | undefined): string[] {
    return ["tc", ...ipIn(netns).slice(1)];
}

/** A link's root qdisc as `tc -j qdisc show` reports it: kind, handle ("1f2e:") and, for a tbf, its rate in bytes per second. */
export interface RootQdisc {
    kind: string;
    handle: string;
    rateBytes?: number;
    burstBytes?: number;
}

/** The root qdisc of a link; undefined when the link (or its namespace) is gone. Equivalent to: `tc [-n NS] -j qdisc show dev DEV root`. */
export async function getRootQdisc(t: Target, dev: string, netns?: string): Promise<RootQdisc | undefined> {
    const out = await runUnlessAbsent(t, [...tcIn(netns), "-j", "qdisc", "show", "dev", dev, "root"], /Cannot find device|Cannot open network namespace|does not exist/);
    if (out === undefined) return undefined;
    const q = (JSON.parse(out || "[]") as any[]).find((x) => x.root);
    return q && { kind: q.kind, handle: q.handle, rateBytes: q.options?.rate, burstBytes: q.options?.burst };
}

/**
 * Sets (or changes) the link's egress rate limit. Equivalent to:
 * `tc [-n NS] qdisc replace dev DEV root handle H: tbf rate RATE burst BURST latency 50ms`.
 */
export async function setRateLimit(t: Target, dev: string, netns: string | undefined, handle: string, rate: string, burst: string): Promise<void> {
    await t.run([...tcIn(netns), "qdisc", "replace", "dev", dev, "root", "handle", handle, "tbf", "rate", rate, "burst", burst, "latency", "50ms"]);
}

/** Removes the link's rate limit (the kernel's default qdisc comes back). Equivalent to: `tc [-n NS] qdisc del dev DEV root handle H:`. */
export async function removeRateLimit(t: Target, dev: string, netns: string | undefined, handle: string): Promise<void> {
    await runUnlessAbsent(t, [...tcIn(netns), "qdisc", "del", "dev", dev, "root", "handle", handle], /Cannot find device|Cannot open network namespace|No such file or directory|Invalid handle/);
}
