/**
 * Defaults kept out of the state. The engine writes the whole state at every step of a deployment
 * (twice per step with the file backend), and each property of each resource costs it every time:
 * a default the program never gave is not worth that. So a provider's `check` leaves out the
 * defaults it filled in, and its other handlers see them filled in again. What a
 * program gives is kept, default or not, so a preview shows the properties the program names.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { checkWith } from "./schema";

type Props = Record<string, unknown>;

/** An object schema: what its properties are. */
type Shaped = { shape: Record<string, z.ZodType> };

const cache = new WeakMap<object, Props>();

/** The value each property of `schema` takes when left out (its `.default(…)`). */
export function defaultsOf(schema: Shaped): Props {
    let defaults = cache.get(schema);
    if (defaults === undefined) {
        defaults = {};
        for (const [key, field] of Object.entries(schema.shape)) {
            const filled = field.safeParse(undefined);
            if (filled.success && filled.data !== undefined) defaults[key] = filled.data;
        }
        cache.set(schema, defaults);
    }
    return defaults;
}

/** `props` with each property left out that has a default set to it. */
export function withDefaults(schema: Shaped, props: Props): Props {
    const out = { ...props };
    for (const [key, value] of Object.entries(defaultsOf(schema))) {
        if (out[key] === undefined) out[key] = structuredClone(value);
    }
    return out;
}

/** `inputs` without the defaults filled in for properties `given` leaves out. */
export function withoutFilledDefaults(schema: Shaped, inputs: Props, given: Props): Props {
    const out = { ...inputs };
    for (const key of Object.keys(defaultsOf(schema))) {
        if (given[key] === undefined) delete out[key];
    }
    return out;
}

/**
 * The provider of a kind whose inputs `schema` checks, from its other handlers: `check` validates
 * with `schema` ({@link checkWith}), leaving out the defaults the program left out, and every other
 * handler gets them filled in again (in the new inputs, and in the outputs it is given, which hold
 * them already unless written by hand). The outputs are the handlers' own.
 */
export function withSchema(schema: Shaped, handlers: Omit<pulumi.dynamic.ResourceProvider, "check">): pulumi.dynamic.ResourceProvider {
    const { diff, read, update, delete: remove } = handlers;
    const fill = (props: Props) => withDefaults(schema, props);
    return {
        ...handlers,
        check: async (_olds: Props, news: Props) => checkWith(schema as unknown as z.ZodObject, news),
        ...(diff && { diff: (id: string, olds: Props, news: Props) => diff(id, fill(olds), fill(news)) }),
        create: (inputs: Props) => handlers.create(fill(inputs)),
        ...(read && { read: (id: string, props?: Props) => read(id, props && fill(props)) }),
        ...(update && { update: (id: string, olds: Props, news: Props) => update(id, fill(olds), fill(news)) }),
        ...(remove && { delete: (id: string, props: Props) => remove(id, fill(props)) }),
    };
}
