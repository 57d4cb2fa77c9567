import { isUnknown, REPLACE_ON_CHANGES } from "./schema";

/** The engine's view of a diff (what the dynamic-provider host passes on). */
export interface DiffResult {
    changes: boolean;
    replaces: string[];
    deleteBeforeReplace: boolean;
}

/** True when two plain values (the engine's property values: no undefined, no functions) are equal. */
export function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/** Where an object is, as every message says it: `namespace "blue"`, or `the root namespace`. */
export function inNamespace(netns: string | undefined): string {
    return netns === undefined ? "the root namespace" : `namespace "${netns}"`;
}

/** How a resource's inputs are compared (see {@link diffInputs}). */
export interface DiffSpec {
    /** The resource's own input keys. */
    keys: readonly string[];
    /** Keys whose change makes another object: a replacement. */
    replace: readonly string[];
    /** Keys left alone when the new inputs omit them (e.g. `mtu`: the kernel's then). */
    unmanagedWhenOmitted?: readonly string[];
    /**
     * Keys naming another kernel object this one lives in or on (a link's `master`, a route's
     * `device`): a value not known yet is a replacement. That is how the engine learns, when it
     * replaces the object named (delete first), that this one goes with it: the kernel removes a
     * bridge's ports from it, and a link's routes with the link.
     */
    references?: readonly string[];
}

/**
 * Compares new inputs with the old state, property by property, running nothing. A property
 * counts as changed when its new value differs from the old one or is not known yet. Changed
 * properties in `replace`, unknown ones in `references`, and those the resource option
 * `replaceOnChanges` names (`"*"` for all) force a replacement. `connection` and `sudo` are always
 * compared: a connection to another host (or port) is a replacement, any other change an update.
 */
export function diffInputs(olds: Record<string, unknown>, news: Record<string, unknown>, spec: DiffSpec): { changed: string[]; replaces: string[] } {
    const changed = [...spec.keys, ...TARGET_KEYS].filter((k) => {
        if (news[k] === undefined && spec.unmanagedWhenOmitted?.includes(k)) return false;
        return isUnknown(news[k]) || !same(olds[k] ?? TARGET_DEFAULTS[k], news[k] ?? TARGET_DEFAULTS[k]);
    });
    const moved = !same(endpoint(olds.connection), endpoint(news.connection));
    const asked = replaceOnChanges(news[REPLACE_ON_CHANGES]);
    const replaces = changed.filter((k) =>
        spec.replace.includes(k) || (k === "connection" && moved) || (isUnknown(news[k]) && spec.references?.includes(k)) || asked(k));
    return { changed, replaces };
}

/**
 * The diff the engine gets: changes when any property changed, and every replacement delete-first
 * (each object is known to the kernel by its name and marked with the resource's one owner token,
 * so the old and the new object cannot both exist; the resource classes set the same as the
 * `deleteBeforeReplace` option, which the engine also uses where it replaces without asking diff).
 */
export function diffResult(changed: readonly string[], replaces: string[]): DiffResult {
    return { changes: changed.length > 0, replaces, deleteBeforeReplace: true };
}

/** Whether the `replaceOnChanges` paths (`"addresses"`, `"dns.nameservers"`, `"peerAddresses[0]"`, `"*"`) name a top-level key. */
function replaceOnChanges(paths: unknown): (key: string) => boolean {
    const keys = Array.isArray(paths) ? paths.filter((p): p is string => typeof p === "string").map((p) => p.split(/[.[]/)[0]) : [];
    return (key) => keys.includes("*") || keys.includes(key);
}

/** Inputs every resource has (see `TargetFields`): compared by every diff, without being listed. */
const TARGET_KEYS = ["connection", "sudo"];
const TARGET_DEFAULTS: Record<string, unknown> = { sudo: false };

/** The host a connection reaches (host and port; unknown when not known yet): a change of it is a replacement, anything else (key, user, sudo) an update. */
function endpoint(c: unknown): unknown {
    if (c === undefined || c === null) return null;
    if (isUnknown(c)) return c;
    const { host, port } = c as { host?: unknown; port?: unknown };
    return [host, port ?? 22];
}
