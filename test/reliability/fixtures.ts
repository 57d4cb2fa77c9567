/** Shared by the reliability suites: create resources through their providers, in-process. */
import { strict as assert } from "assert";
import { handlers } from "../../provider/handlers";
import { checked, owner } from "../helpers/provider";

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
