import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import type { Connection } from "../linux/target";

/** Every ownership marker starts with this, so a person (or a leak check) can grep for it. */
export const OWNER_PREFIX = "pulumi-netns:";

/**
 * The ownership token of one resource: `pulumi-netns:` and 16 hex digits of a SHA-256 over
 * project, stack, resource type and name. It is written where each kind of object can hold
 * it (a link's alias, an iptables rule's comment, a marker file for a namespace), and an
 * object is adopted, modified or deleted only when it carries the resource's own token.
 */
export function ownerToken(project: string, stack: string, type: string, name: string): string {
    const digest = createHash("sha256").update([project, stack, type, name].join("\0")).digest("hex");
    return OWNER_PREFIX + digest.slice(0, 16);
}

/** The token of a resource of this program's project and stack (called by resource constructors). */
export function resourceOwner(type: string, name: string): string {
    return ownerToken(pulumi.getProject(), pulumi.getStack(), type, name);
}

/**
 * The property map a resource constructor hands to `pulumi.dynamic.Resource`: every input key
 * (so each is an output too, even when omitted), `connection` and `sudo` (every resource's), the
 * ownership token, and the output-only keys.
 */
export function resourceProps(
    type: string,
    name: string,
    args: object,
    keys: readonly string[],
    outputOnly: readonly string[],
): Record<string, unknown> {
    const props: Record<string, unknown> = {};
    for (const k of [...keys, "connection", "sudo"]) props[k] = (args as Record<string, unknown>)[k];
    for (const k of outputOnly) if (!keys.includes(k)) props[k] = undefined;
    props.owner = resourceOwner(type, name);
    return props;
}

/** A resource's options with `connection` (which may hold a private key) kept secret in the state. */
export function resourceOptions(opts: pulumi.CustomResourceOptions | undefined): pulumi.CustomResourceOptions {
    return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), "connection"] };
}

/** The `connection` argument of every resource: a {@link Connection} whose fields may be outputs (e.g. a secret key). */
export type ConnectionInputs = { [K in keyof Connection]: pulumi.Input<Connection[K]> };
