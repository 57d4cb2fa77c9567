import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { ownerToken } from "../../provider/core/owner";
import { observeCommands } from "../../provider/linux/exec";

/** The owner token the resource class would compute for `name` in a test project/stack. */
export function owner(type: string, name: string): string {
    return ownerToken("test", "test", type, name);
}

/** Runs the provider's check as the engine would and returns the normalised inputs; fails the test on failures. */
export async function checked(provider: pulumi.dynamic.ResourceProvider, news: Record<string, unknown>): Promise<Record<string, any>> {
    const r = await provider.check!({}, news);
    assert.deepEqual(r.failures ?? [], [], `unexpected check failures for ${JSON.stringify(news)}`);
    return r.inputs as Record<string, any>;
}

/** Runs fn and returns every argv the exec layer was asked to run meanwhile. */
export async function commandsDuring(fn: () => Promise<unknown>): Promise<string[][]> {
    const seen: string[][] = [];
    observeCommands((argv) => seen.push(argv));
    try {
        await fn();
    } finally {
        observeCommands();
    }
    return seen;
}

/** The property names of a check's failures, sorted. */
export async function failedProperties(provider: pulumi.dynamic.ResourceProvider, news: Record<string, unknown>): Promise<string[]> {
    const r = await provider.check!({}, news);
    return (r.failures ?? []).map((f) => f.property).sort();
}
