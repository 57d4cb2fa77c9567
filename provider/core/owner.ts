import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";

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
 * The input that names a resource to the provider host (`VethPair "lan-a-veth"`): `check` takes it
 * out of the inputs (so it is never in the state or a diff) and remembers it for the owner token,
 * so that a clash can name the resource of this stack that holds an object, not just its token.
 */
export const RESOURCE_NAME = "resourceName";

/** Owner token → resource, for every resource checked by this process (one `pulumi up` of one stack). */
const checkedResources = new Map<string, string>();

/** Remembers which resource a token belongs to (called by `check`). */
export function rememberResource(owner: unknown, resource: unknown): void {
    if (typeof owner === "string" && typeof resource === "string") checkedResources.set(owner, resource);
}

/**
 * Who holds an object that carries `token`, for messages: a resource of this stack checked in this
 * run (`VethPair "b" of this stack`), or else the token itself.
 */
export function describeOwner(token: string): { resource?: string; text: string } {
    const resource = checkedResources.get(token);
    return resource ? { resource, text: `${resource} of this stack` } : { text: `another pulumi-netns resource (${token}), of another stack or one this stack no longer declares` };
}
