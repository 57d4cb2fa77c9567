import * as pulumi from "@pulumi/pulumi";
import { RESOURCE_NAME, resourceOwner } from "./owner";
import { providerSource } from "./shim";
import { checkDynamicProviderFolder, isInlineProgram } from "./workdir";
import { REPLACE_ON_CHANGES, type Connection } from "./schema";

/** The `connection` argument of every resource: a {@link Connection} whose fields may be outputs (e.g. a secret key). */
export type ConnectionArgs = { [K in keyof Connection]: pulumi.Input<Connection[K]> };

/** Inputs every resource (and `BridgedNetwork`) takes besides its own: where and how its commands run. */
export interface TargetArgs {
    /** Run the commands on this host over SSH (docs/remote.md); omitted = this machine. Kept secret in the state. */
    connection?: pulumi.Input<ConnectionArgs | undefined>;
    /** Run every command through `sudo -n` (a clear error when sudo wants a password). Default: false. */
    sudo?: pulumi.Input<boolean | undefined>;
    /**
     * Take over an existing object of this identity that carries no pulumi-netns marker, made by a
     * script or by hand, if it matches the declaration as it is: create then only adds the marker
     * (changing nothing else), and fails listing the differences otherwise. Default: false.
     */
    adopt?: pulumi.Input<boolean | undefined>;
}

/**
 * A resource class's outputs, from the type its provider returns (its schema's output and the
 * extras): `Output<T>` for each, declared once, and those every resource has: `connection`, `sudo`
 * and the ownership token `owner`. The class merges it in (`interface X extends ResourceOutputs<…> {}`
 * beside `class X`).
 */
export type ResourceOutputs<T> = { readonly [K in Exclude<keyof T, "owner" | "connection" | "sudo" | "adopt">]-?: pulumi.Output<T[K]> } & {
    readonly owner: pulumi.Output<string>;
    readonly connection: pulumi.Output<Connection | undefined>;
    readonly sudo: pulumi.Output<boolean | undefined>;
};

/** The kinds of resource, as `handlers` and type tokens (`pulumi-nodejs:dynamic/netns:<Kind>`) name them. */
export type Kind = "Netns" | "VethPair" | "Bridge" | "Macvlan" | "Vxlan" | "Route" | "MasqueradeRule" | "ForwardRule" | "PortForward" | "SysctlForward" | "ChainPolicy" | "IptablesChain" | "IptablesRule";

/**
 * The options every resource is registered with: `connection`, when given, secret in the state, and
 * every replacement delete-first. The kernel knows each object by its name and the new object carries the
 * old one's owner token, so they cannot both exist: made first, the new one would be the old one,
 * taken back as ours, and then deleted as the old one. The engine decides delete-first from the
 * provider's diff, but `pulumi up --replace`, `replacementTrigger` and `replaceWith` replace without
 * asking it, so the option is set here; `deleteBeforeReplace: false` is refused.
 */
function replacementOptions(kind: Kind, name: string, connection: unknown, opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
    if (opts?.deleteBeforeReplace === false) {
        throw new Error(
            `${kind} "${name}": deleteBeforeReplace: false cannot work for a pulumi-netns resource: its replacement has the same ` +
            "name in the kernel and the same owner marker, so made before the old one is deleted it would be the old one, and " +
            "deleting the old one would delete it. Leave the option out (every replacement deletes first).",
        );
    }
    const secret = connection === undefined ? [] : ["connection"];
    return { ...opts, deleteBeforeReplace: true, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secret] };
}

/**
 * Which host runs the resources a program declares: Pulumi's dynamic-provider host (the default, a
 * TypeScript program's own `pulumi-nodejs:dynamic/netns:<Kind>` resources carrying their provider),
 * or this package's provider plugin (`netns:index:<Kind>`), when the plugin itself declares them as
 * the children of a multi-language component ({@link useProviderPlugin}).
 */
let host: "dynamic" | "plugin" = "dynamic";

/** Makes every resource declared from now on in this process one of the provider plugin's (called by the plugin). */
export function useProviderPlugin(): void {
    host = "plugin";
}

/** The type token of a kind of resource under the provider plugin: `netns:index:<Kind>`. */
export function pluginToken(kind: Kind): string {
    return `netns:index:${kind}`;
}

/** What a resource class passes to `super` ({@link registration}), and what it calls once that returns. */
export interface Registration {
    args: [type: string, name: string, props: pulumi.Inputs, opts: pulumi.CustomResourceOptions];
    done(): void;
}

/**
 * How every pulumi-netns resource registers: its provider (see {@link host}), every input key as an
 * output (even when omitted), `connection` and `sudo`, the ownership token `owner`, `connection`
 * kept secret in the state (it may hold a private key), every replacement delete-first (see
 * {@link replacementOptions}), and the `replaceOnChanges` option made to work. Every key the caller
 * gave is passed on, known or not: a misspelled one (from a variable, `any` or plain JavaScript,
 * where TypeScript cannot see it) reaches `check` and fails it, instead of being dropped.
 * `resourceName` tells the provider host which resource a token belongs to (for messages); check
 * drops it. Under the plugin, whose `check` derives `owner` and `resourceName` from the URN as it
 * does for a resource declared in YAML or Python, neither is sent.
 *
 * Each class extends `pulumi.CustomResource` itself and calls `super(...r.args)` in a `try` with
 * `r.done()` in its `finally`: Pulumi records as a resource's source position the caller of the
 * constructor that calls `CustomResource`'s, so with no class of ours in between, that is the line
 * of the program (or component) that declared the resource.
 *
 * Until `done`, the SDK's stack traces are off: it records one (`new Error().stack`, mapped through
 * source maps) for every promise it makes while registering, one or more per property, for its report
 * of leaked promises; with a property per input of every resource, that was most of what a preview
 * cost beyond Pulumi's own (docs/performance.md). The resource's own stack trace and source position
 * are captured as ever (the SDK lifts the limit for them).
 */
export function registration(
    kind: Kind,
    name: string,
    args: TargetArgs,
    keys: readonly string[],
    outputOnly: readonly string[],
    opts: pulumi.CustomResourceOptions | undefined,
): Registration {
    const props: Record<string, unknown> = { ...(args as Record<string, unknown>) };
    for (const k of [...keys, ...outputOnly, "connection", "sudo", "adopt"]) if (!(k in props)) props[k] = undefined;
    props.owner = undefined;
    if (host === "dynamic") {
        checkDynamicProviderFolder();
        props.__provider = providerSource(kind, isInlineProgram());
        props.owner = resourceOwner(kind, name);
        props[RESOURCE_NAME] = `${kind} "${name}"`;
        if (opts?.replaceOnChanges?.length) props[REPLACE_ON_CHANGES] = opts.replaceOnChanges;
    }
    const type = host === "dynamic" ? `pulumi-nodejs:dynamic/netns:${kind}` : pluginToken(kind);
    const options = replacementOptions(kind, name, args.connection, opts);
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    return { args: [type, name, props, options], done: () => void (Error.stackTraceLimit = limit) };
}
