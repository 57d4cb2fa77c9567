/**
 * Marker files: what a resource holds on an object that cannot carry an ownership marker itself (a
 * namespace, a sysctl, a chain's policy, a user-defined chain), written under /run/pulumi-netns (gone
 * on reboot, as are the objects they describe), one small JSON file per object in a folder per kind:
 * by owner token, or (a namespace's) by the object's name.
 */
import * as path from "path";
import type { Target } from "./target";

/** The folder every marker lives under, a folder per kind inside it; each goes when the last marker in it does. */
export const MARKER_ROOT = "/run/pulumi-netns";

/**
 * Removes a marker file (a missing one is success), then its folder and {@link MARKER_ROOT} when they
 * are left empty: after the last delete nothing of pulumi-netns stays on the host. A create writing a
 * marker meanwhile makes the folder again (see `Target.writeFile`).
 */
export async function removeMarkerFile(t: Target, file: string): Promise<void> {
    await t.removeFile(file);
    await t.removeEmptyDir(path.dirname(file));
    await t.removeEmptyDir(MARKER_ROOT);
}

function markerFile(dir: string, owner: string): string {
    return path.join(dir, owner.replace(/[^\w-]/g, "_"));
}

/** Reads a marker file; undefined when there is none, it is unreadable, or `valid` rejects it. */
export async function readMarkerFile<T>(t: Target, file: string, valid: (data: any) => boolean): Promise<T | undefined> {
    try {
        const data = JSON.parse((await t.readFile(file)) ?? "null");
        return data && valid(data) ? (data as T) : undefined;
    } catch {
        return undefined;
    }
}

/** Writes a marker file (atomically: a temporary file renamed over it), making its folder. */
export async function writeMarkerFile(t: Target, file: string, marker: unknown): Promise<void> {
    await t.writeFile(file, JSON.stringify(marker));
}

/** Reads the marker of an owner token in `dir`; undefined when there is none, it is unreadable, or `valid` rejects it. */
export async function readMarker<T>(t: Target, dir: string, owner: string, valid: (data: any) => boolean): Promise<T | undefined> {
    return readMarkerFile<T>(t, markerFile(dir, owner), valid);
}

/**
 * The marker of an owner token in `dir` when it names this very object: every field of `at` (which
 * object, in which namespace and that namespace's inode) is the same in it. Undefined otherwise.
 */
export async function readOwnMarker<T extends object>(t: Target, dir: string, owner: string, at: Partial<T>, valid: (data: any) => boolean): Promise<T | undefined> {
    const found = await readMarker<T>(t, dir, owner, valid);
    return found !== undefined && (Object.keys(at) as (keyof T)[]).every((k) => found[k] === at[k]) ? found : undefined;
}

/** Writes the marker of an owner token in `dir` (atomically: a temporary file renamed over it). */
export async function writeMarker(t: Target, dir: string, owner: string, marker: unknown): Promise<void> {
    await writeMarkerFile(t, markerFile(dir, owner), marker);
}

/** Removes the marker of an owner token in `dir`, and the folders it leaves empty; a missing one is success. */
export async function removeMarker(t: Target, dir: string, owner: string): Promise<void> {
    await removeMarkerFile(t, markerFile(dir, owner));
}
