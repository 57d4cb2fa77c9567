/**
 * A VXLAN device's flood list: the all-zeros entries of its own forwarding database (`bridge fdb …
 * self`), one per remote tunnel end. Broadcast, unknown unicast and multicast frames go to every one
 * of them (head-end replication): a VXLAN LAN of many hosts without a multicast underlay.
 */
import { ipIn } from "./batch";
import { runUnlessAbsent, type Target } from "./target";

/** The MAC of a flood entry: "any destination the device has not learned". */
export const FLOOD_MAC = "00:00:00:00:00:00";

/** The `bridge` argv prefix for a namespace: `bridge [-n NS]`. */
function bridgeIn(netns: string | undefined): string[] {
    return ["bridge", ...ipIn(netns).slice(1)];
}

/** stderr of `bridge` when the device or its namespace is missing. */
const MISSING = /does not exist|Cannot find device|Cannot open network namespace|No such device/;

/**
 * The remote ends in the device's flood list, in the kernel's order; undefined when the device (or
 * its namespace) is gone. Learned entries (a peer's MACs) and the bridge's own entries for the port
 * are left out. Equivalent to: `bridge [-n NS] -json fdb show dev DEV` (entries of MAC 00:00:00:00:00:00
 * with a `dst`).
 */
export async function getFloodRemotes(t: Target, dev: string, netns?: string): Promise<string[] | undefined> {
    const out = await runUnlessAbsent(t, [...bridgeIn(netns), "-json", "fdb", "show", "dev", dev], MISSING);
    if (out === undefined) return undefined;
    return (JSON.parse(out || "[]") as { mac: string; dst?: string; master?: string }[])
        .filter((e) => e.mac === FLOOD_MAC && e.dst !== undefined && e.master === undefined)
        .map((e) => e.dst!);
}

/**
 * The `bridge -batch` lines that turn the flood list `current` into `wanted`: an `append` per new
 * remote, a `del` per one no longer wanted. Equivalent to: `bridge fdb append 00:00:00:00:00:00 dev
 * DEV dst R self` and `bridge fdb del 00:00:00:00:00:00 dev DEV dst R self`.
 */
export function floodLines(dev: string, current: readonly string[], wanted: readonly string[]): string[] {
    const line = (op: string, r: string) => ["fdb", op, FLOOD_MAC, "dev", dev, "dst", r, "self"].join(" ");
    return [...wanted.filter((r) => !current.includes(r)).map((r) => line("append", r)), ...current.filter((r) => !wanted.includes(r)).map((r) => line("del", r))];
}

/**
 * Makes the device's flood list exactly `wanted` in one process (addresses are validated, so no line
 * needs quoting); nothing runs when it already is. Equivalent to: `bridge [-n NS] -batch -` reading
 * {@link floodLines}.
 */
export async function setFloodRemotes(t: Target, dev: string, netns: string | undefined, current: readonly string[], wanted: readonly string[]): Promise<void> {
    const lines = floodLines(dev, current, wanted);
    if (lines.length > 0) await t.run([...bridgeIn(netns), "-batch", "-"], { input: lines.join("\n") + "\n" });
}
