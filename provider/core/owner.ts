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
