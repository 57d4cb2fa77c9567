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
 * Changed properties in `replaceKeys` force a replacement.
 */
export function diffInputs(
    olds: Record<string, unknown>,
    news: Record<string, unknown>,
    keys: readonly string[],
    replaceKeys: readonly string[],
    unmanagedWhenOmitted: readonly string[] = [],
): { changed: string[]; replaces: string[] } {
    const changed = keys.filter((k) => {
        if (news[k] === undefined && unmanagedWhenOmitted.includes(k)) return false;
        return isUnknown(news[k]) || !same(olds[k], news[k]);
    });
    return { changed, replaces: changed.filter((k) => replaceKeys.includes(k)) };
}
