import * as path from "path";
import { ipBatch, ipIn } from "./batch";
import { CommandError } from "./exec";
import { MARKER_ROOT, readMarkerFile, removeMarkerFile, writeMarkerFile } from "./marker";
import type { FileId, Target } from "./target";

/** Where iproute2 keeps named namespaces (bind mounts of nsfs). */
export const NETNS_DIR = "/run/netns";
/** Where pulumi-netns keeps namespace ownership markers. Under /run, so they vanish on reboot with the namespaces. */
export const MARKER_DIR = `${MARKER_ROOT}/netns`;

/** The named namespaces. Equivalent to: `ip -json netns list`. */
export async function listNetns(t: Target): Promise<string[]> {
    const out = (await t.run(["ip", "-json", "netns", "list"])).stdout;
    return (JSON.parse(out || "[]") as { name: string }[]).map((n) => n.name);
}

/**
 * The names of the namespaces `netns` has ids for (nsid → name; the root namespace has no name, so
 * it never appears). Equivalent to: `ip [-n NS] -json netns list-id`.
 */
export async function netnsIdNames(t: Target, netns?: string): Promise<Map<number, string>> {
    const out = (await t.run([...ipIn(netns), "-json", "netns", "list-id"])).stdout;
    return new Map((JSON.parse(out || "[]") as { nsid: number; name?: string }[]).filter((n) => n.name).map((n) => [n.nsid, n.name!]));
}

/** What identifies a named namespace (inode and change time of its /run/netns file), or undefined when it does not exist. */
export async function netnsId(t: Target, name: string): Promise<FileId | undefined> {
    return t.stat(path.join(NETNS_DIR, name));
}

/**
 * Creates a named namespace; with `loopbackUp`, brings its `lo` up in the same process (a new
 * namespace's `lo` is down). Equivalent to: `ip -batch -` reading `netns add NAME` and, with
 * `loopbackUp`, `netns exec NAME ip link set dev lo up` (see {@link ipBatch}). When the second line
 * fails the namespace exists: see `failedBatchLine`.
 */
export async function addNetns(t: Target, name: string, loopbackUp = false): Promise<void> {
    await ipBatch(t, undefined, [`netns add ${name}`, ...(loopbackUp ? [`netns exec ${name} ip link set dev lo up`] : [])]);
}

/**
 * Deletes a named namespace, first deleting the given links inside it: a veth's other end then
 * goes at once, not when the kernel gets round to freeing the namespace (never, while a process
 * still holds it). A namespace already gone is success. Equivalent to: `ip -batch -` reading
 * `netns exec NAME ip link delete dev LINK` per link, then `netns delete NAME` (see {@link ipBatch});
 * should a link have gone meanwhile, again alone with `ip -force -batch -`, so the namespace still goes.
 */
export async function deleteNetns(t: Target, name: string, links: string[] = []): Promise<void> {
    if ((await netnsId(t, name)) === undefined) return;
    const lines = [...links.map((l) => `netns exec ${name} ip link delete dev ${l}`), `netns delete ${name}`];
    try {
        await ipBatch(t, undefined, lines).catch(async (err) => {
            if (!(err instanceof CommandError) || links.length === 0 || (await netnsId(t, name)) === undefined) throw err;
            await t.run(["ip", "-force", "-batch", "-"], { input: lines.join("\n") + "\n" });
        });
    } catch (err) {
        // Gone (by this command, whatever else failed, or concurrently): success.
        if (err instanceof CommandError && (await netnsId(t, name)) === undefined) return;
        throw err;
    }
}

/**
 * An ownership marker: which resource made the namespace, and the namespace's inode and change time at the time.
 * Inode 0 marks a namespace about to be made (written before `ip netns add`, so a crash right after
 * it still leaves the namespace recognisably ours).
 */
export interface NetnsMarker {
    owner: string;
    inode: number;
    /** The namespace's change time (see FileId): a namespace re-made with the same inode is not ours. Absent in markers written before it was recorded. */
    ctime?: string;
    /** Set when this resource made the namespace's /etc/netns/NAME folder (it removes it when it leaves it empty). */
    etcDir?: true;
}

/** The inode of a marker written before its namespace was made. */
export const PENDING_INODE = 0;

/** Reads the ownership marker of a namespace (a small JSON file under {@link MARKER_DIR}, by the namespace's name). */
export async function readNetnsMarker(t: Target, name: string): Promise<NetnsMarker | undefined> {
    return readMarkerFile<NetnsMarker>(t, path.join(MARKER_DIR, name), (d) => typeof d.owner === "string" && typeof d.inode === "number");
}

/** Writes the ownership marker of a namespace. */
export async function writeNetnsMarker(t: Target, name: string, marker: NetnsMarker): Promise<void> {
    await writeMarkerFile(t, path.join(MARKER_DIR, name), marker);
}

/** Removes the ownership marker of a namespace, and the folders it leaves empty; a missing one is success. */
export async function removeNetnsMarker(t: Target, name: string): Promise<void> {
    await removeMarkerFile(t, path.join(MARKER_DIR, name));
}

/**
 * Who owns a namespace now: its marker's owner when the marker matches the namespace that
 * exists (same inode), undefined for a namespace without a valid marker, null when there is
 * no such namespace.
 */
export async function netnsOwner(t: Target, name: string): Promise<string | undefined | null> {
    const id = await netnsId(t, name);
    if (id === undefined) return null;
    const marker = await readNetnsMarker(t, name);
    const same = marker && marker.inode === id.inode && (marker.ctime === undefined || marker.ctime === id.ctime);
    return marker && (same || marker.inode === PENDING_INODE) ? marker.owner : undefined;
}
