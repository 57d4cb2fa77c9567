import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { ownerToken } from "../../provider/core/owner";
import { handlers } from "../../provider/handlers";
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

// In-process lifecycles through the providers (the reliability suites, adopt, the scenarios).

export type Kind = keyof typeof handlers;

export interface Made {
    kind: Kind;
    id: string;
    inputs: Record<string, any>;
    outs: Record<string, any>;
}

/** check, then create, as the engine does; `name` makes the owner token. */
export async function make(kind: Kind, name: string, args: Record<string, unknown>): Promise<Made> {
    // As the resource classes register it: with the resource's name, which check remembers for messages and drops.
    const inputs = await checked(handlers[kind], { ...args, owner: owner(kind, name), resourceName: `${kind} "${name}"` });
    const { id, outs } = await handlers[kind].create(inputs);
    return { kind, id, inputs, outs };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<Error> {
    try {
        await p;
    } catch (err) {
        return err as Error;
    }
    assert.fail("expected a failure");
}

export async function read(m: Made) {
    return handlers[m.kind].read!(m.id, m.outs);
}

export async function destroy(m: Made) {
    await handlers[m.kind].delete!(m.id, m.outs);
}

/** Resources made in order through their providers and deleted in reverse, like `up` and `destroy`. */
export class ProviderStack {
    private made: Made[] = [];
    /** Makes a resource of `kind`; its owner token comes from its arguments (unique within a test). */
    async add(kind: Kind, args: Record<string, unknown>): Promise<Record<string, any>> {
        const m = await make(kind, JSON.stringify(args), args);
        this.made.push(m);
        return m.outs;
    }
    async destroy(): Promise<void> {
        for (const m of this.made.reverse()) await destroy(m);
        this.made = [];
    }
}
