/**
 * sysctl system calls. The root namespace's values are read straight from /proc/sys (the
 * network sysctls there belong to the reading process's namespace); a named namespace's
 * values need a process inside it: `ip netns exec NS sysctl ...`.
 */
import { CommandError } from "./exec";
import { readMarker, removeMarker, writeMarker } from "./marker";
import { runUnlessAbsent, type Target } from "./target";

/** The /proc/sys file of a dotted key ("net.ipv4.ip_forward" → /proc/sys/net/ipv4/ip_forward). */
export function sysctlPath(key: string): string {
    return `/proc/sys/${key.replace(/\./g, "/")}`;
}

/** A key must look like a sysctl name (no option or path injection). */
function checkKey(key: string): void {
    if (!/^[a-z0-9_]+(\.[A-Za-z0-9_@+-]+)+$/.test(key)) throw new Error(`not a sysctl key: ${JSON.stringify(key)}`);
}

/**
 * Reads a sysctl; undefined when the key does not exist (e.g. `net.ipv6.*` with IPv6 disabled).
 * Equivalent to: `cat /proc/sys/KEY/PATH` (root namespace) or `ip netns exec NS sysctl -n KEY`.
 * Throws a {@link CommandError} when the namespace does not exist.
 */
export async function getSysctl(t: Target, key: string, netns?: string): Promise<string | undefined> {
    checkKey(key);
    if (!netns) return (await t.readFile(sysctlPath(key)))?.trim();
    const argv = ["ip", "netns", "exec", netns, "sysctl", "-n", key];
    return (await runUnlessAbsent(t, argv, /cannot stat .*No such file or directory/))?.trim();
}

/** Sets a sysctl. Equivalent to: `[ip netns exec NS] sysctl -q -w KEY=VALUE`. */
export async function setSysctl(t: Target, key: string, value: string, netns?: string): Promise<void> {
    checkKey(key);
    if (!/^[\w.-]+$/.test(value)) throw new Error(`not a sysctl value: ${JSON.stringify(value)}`);
    await t.run([...(netns ? ["ip", "netns", "exec", netns] : []), "sysctl", "-q", "-w", `${key}=${value}`]);
}

/** Where pulumi-netns records the values a SysctlForward found before it set them (under /run: gone on reboot, as are the values). */
export const SYSCTL_MARKER_DIR = "/run/pulumi-netns/sysctl";

/**
 * What a resource holds: the namespace (and its inode, to tell a namespace recreated since) and the
 * value each sysctl had before this resource set it. Written before the sysctl is set, so a create
 * interrupted before the engine saved its state finds the true previous values when run again.
 */
export interface SysctlMarker {
    netns?: string;
    inode?: number;
    previous: Record<string, number>;
}

/** Reads the marker of an owner token; undefined when there is none (or it is unreadable). */
export async function readSysctlMarker(t: Target, owner: string): Promise<SysctlMarker | undefined> {
    return readMarker<SysctlMarker>(t, SYSCTL_MARKER_DIR, owner, (d) => typeof d.previous === "object");
}

/** Writes the marker of an owner token (atomically: a temporary file renamed over it). */
export async function writeSysctlMarker(t: Target, owner: string, marker: SysctlMarker): Promise<void> {
    await writeMarker(t, SYSCTL_MARKER_DIR, owner, marker);
}

/** Removes the marker of an owner token; a missing one is success. */
export async function removeSysctlMarker(t: Target, owner: string): Promise<void> {
    await removeMarker(t, SYSCTL_MARKER_DIR, owner);
}
