import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";

/**
 * Builds the provider object that `pulumi.dynamic.Resource` serializes into the stack.
 *
 * Pulumi serializes a dynamic provider's closure into state and runs it in a separate
 * process (`@pulumi/pulumi/cmd/dynamic-provider`). Capturing real code there is fragile
 * (ESM-only packages, zod schemas and classes captured by value, relative requires that
 * have no file to resolve against). So the serialized object captures two strings only:
 * the resource kind and the absolute path of the compiled handler module. Each method
 * loads that module with a plain `require` (absolute paths work in the host) and
 * delegates. If the checkout moved since the state was written, it falls back to the
 * installed package by name, resolved from the program's directory.
 */
export function providerFor(kind: string): pulumi.dynamic.ResourceProvider {
    // One object per kind: Pulumi caches serializations by object, so every resource of a kind
    // shares one serialization instead of paying for its own.
    let provider = providers.get(kind);
    if (!provider) providers.set(kind, (provider = makeProvider(kind)));
    return provider;
}

const providers = new Map<string, pulumi.dynamic.ResourceProvider>();

function makeProvider(kind: string): pulumi.dynamic.ResourceProvider {
    const entry = path.join(__dirname, "..", "handlers");
    const load = (): Record<string, pulumi.dynamic.ResourceProvider> => {
        let mod: { handlers: Record<string, pulumi.dynamic.ResourceProvider> };
        try {
            mod = require(entry);
        } catch (err) {
            try {
                mod = require("pulumi-netns/handlers");
            } catch {
                throw err;
            }
        }
        return mod.handlers;
    };
    return {
        check: (olds, news) => load()[kind].check!(olds, news),
        diff: (id, olds, news) => load()[kind].diff!(id, olds, news),
        create: (inputs) => load()[kind].create(inputs),
        read: (id, props) => load()[kind].read!(id, props),
        update: (id, olds, news) => load()[kind].update!(id, olds, news),
        delete: (id, props) => load()[kind].delete!(id, props),
    };
}
