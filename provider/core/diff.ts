import { isUnknown } from "./schema";

/** The engine's view of a diff (what the dynamic-provider host passes on). */
export interface DiffResult {
    changes: boolean;
    replaces: string[];
    deleteBeforeReplace: boolean;
}

function same(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Compares new inputs with the old state, property by property, running nothing. A property
 * counts as changed when its new value differs from the old one or is not known yet. Properties
 * listed in `unmanagedWhenOmitted` (e.g. `mtu`) are left alone when the new inputs omit them.
 * Changed properties in `replaceKeys` force a replacement. `connection` and `sudo` are always
 * compared: a connection to another host (or port) is a replacement, any other change an update.
 * `moved`: the resource goes to another host, where its names cannot collide with the old object's.
 */
export function diffInputs(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
    keys: readonly string[],
    replaceKeys: readonly string[],
    unmanagedWhenOmitted: readonly string[] = [],
): { changed: string[]; replaces: string[]; moved: boolean } {
    const changed = [...keys, ...TARGET_KEYS].filter((k) => {
        if (news[k] === undefined && unmanagedWhenOmitted.includes(k)) return false;
        return isUnknown(news[k]) || !same(olds[k] ?? TARGET_DEFAULTS[k], news[k] ?? TARGET_DEFAULTS[k]);
    });
    const moved = !same(endpoint(olds.connection), endpoint(news.connection));
    return { changed, replaces: changed.filter((k) => replaceKeys.includes(k) || (k === "connection" && moved)), moved };
}

/** Inputs every resource has (see `TargetArgs`): compared by every diff, without being listed. */
const TARGET_KEYS = ["connection", "sudo"];
const TARGET_DEFAULTS: Record<string, unknown> = { sudo: false };

/** The host a connection reaches (host and port; unknown when not known yet): a change of it is a replacement, anything else (key, user, sudo) an update. */
function endpoint(c: unknown): unknown {
    if (c === undefined || c === null) return null;
    if (isUnknown(c)) return c;
    const { host, port } = c as { host?: unknown; port?: unknown };
    return [host, port ?? 22];
}
