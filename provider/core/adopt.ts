/**
 * `adopt: true`: create takes over an existing object of the declared identity that carries no
 * marker, only if it matches the declaration as it is, and then writes only the marker. When it
 * does not match, create fails listing each difference, having changed nothing.
 */
import { Link, macvlanParent, vxlanSpecOf } from "../linux/link";
import type { Target } from "../linux/target";
import { same } from "./diff";

/** One way an existing object differs from its declaration. */
export interface Difference {
    property: string;
    declared: unknown;
    found: unknown;
}

/** The differences between what is declared and what was found, for the properties given. */
export function differences(declared: object, found: object, properties: string[], prefix = ""): Difference[] {
    const [d, f] = [declared as Record<string, unknown>, found as Record<string, unknown>];
    return properties
        .filter((p) => !same(d[p], f[p]))
        .map((p) => ({ property: `${prefix}${p}`, declared: d[p], found: f[p] }));
}

/** Throws, when there are differences, the error that lists them (nothing was changed). */
export function assertAdoptable(what: string, diffs: Difference[]): void {
    if (diffs.length === 0) return;
    const list = diffs.map((d) => `${d.property}: declared ${show(d.declared)}, found ${show(d.found)}`).join("; ");
    throw new Error(
        `cannot adopt ${what}: it differs from the declaration (${list}). Nothing was changed: ` +
            "declare it as it is (`pulumi-netns scan` prints a program that does), change it by hand, or delete it and let create make it",
    );
}

function show(v: unknown): string {
    return v === undefined ? "nothing" : JSON.stringify(v);
}

/** Addresses compared as sets (the kernel lists them in its own order). */
export function sameSet(a: readonly string[], b: readonly string[]): boolean {
    return a.length === b.length && a.every((x) => b.includes(x));
}

/**
 * What a link of a kind declares beyond what every link has, compared for `adopt` (the single-link
 * resources of core/link-provider.ts): a VXLAN's tunnel (vni, local, remote, group, dstPort,
 * device) and a macvlan's parent (in the root namespace) and mode. None for a bridge.
 */
export async function kindDifferences(t: Target, kind: string, declared: object, link: Link, netns?: string): Promise<Difference[]> {
    if (kind === "vxlan") return differences(declared, vxlanSpecOf(link) ?? {}, ["vni", "local", "remote", "group", "dstPort", "device"]);
    if (kind === "macvlan") return differences(declared, { parent: await macvlanParent(t, link, netns), mode: link.data?.mode }, ["parent", "mode"]);
    return [];
}
