import { getLink, Link } from "../linux/link";
import { describeOwner, OWNER_PREFIX } from "./owner";
import { netnsOwner } from "../linux/netns";
import type { Target } from "../linux/target";
import { inNamespace } from "./diff";

/**
 * Decides what create may do with an object of the name it wants: "absent" (create it), "ours"
 * (it carries this resource's own marker: a crash between create and the engine saving state;
 * take it back), or, with `adopt`, "unmarked" (it carries no marker at all: take it over if it
 * matches the declaration, see core/adopt.ts). Anything else is someone else's object: throws,
 * saying what exists and how to proceed, and touches nothing.
 */
export type Claim = "absent" | "ours" | "unmarked";

export async function claimNetns(t: Target, name: string, owner: string, adopt = false): Promise<Claim> {
    const found = await netnsOwner(t, name);
    if (found === null) return "absent";
    if (found === owner) return "ours";
    if (found === undefined && adopt) return "unmarked";
    if (found === undefined) {
        throw new Error(`namespace "${name}" already exists and is not owned by this resource (it has no pulumi-netns marker): delete it first (ip netns delete ${name}), choose another name, or take it over with adopt: true`);
    }
    throw new Error(`namespace "${name}" already exists and ${heldBy(found)}`);
}

/**
 * The end of a clash message for an object that carries another resource's token: never a command
 * that would delete it (that would break the resource holding it), but who holds it and what to change.
 */
function heldBy(token: string): string {
    const { resource, text } = describeOwner(token);
    return resource
        ? `belongs to ${text}: two resources declare the same object; give one of them another name`
        : `belongs to ${text}: remove it there (pulumi destroy in that stack, or take the resource out of its program), or choose another name`;
}

/**
 * Like {@link claimNetns} for a link: ours when its kind is `kind` and its alias is our token, or
 * it has no alias yet and carries `mac`, the address derived from our token that create gives the
 * link (a crash between `ip link add` and setting the alias).
 */
export async function claimLink(
    t: Target, name: string, netns: string | undefined, owner: string, kind: string, mac?: string, adopt = false,
): Promise<{ claim: Claim; link?: Link }> {
    const link = await getLink(t, name, netns);
    if (!link) return { claim: "absent" };
    if (link.kind === kind && (link.alias === owner || (link.alias === undefined && mac !== undefined && link.mac === mac))) return { claim: "ours", link };
    const where = inNamespace(netns);
    if (link.alias?.startsWith(OWNER_PREFIX)) throw new Error(`link "${name}" already exists in ${where} and ${heldBy(link.alias)}`);
    if (adopt && link.alias === undefined) {
        if (link.kind === kind) return { claim: "unmarked", link };
        throw new Error(`cannot adopt link "${name}" in ${where}: it is a ${link.kind ?? "device without a kind"}, not a ${kind}. Nothing was changed`);
    }
    throw new Error(
        `link "${name}" already exists in ${where} and is not owned by this resource ` +
            (link.alias === undefined
                ? `(no pulumi-netns marker yet: made by another tool, or by another resource that is creating it; kind ${link.kind ?? "unknown"})`
                : `(kind ${link.kind ?? "unknown"}, alias ${JSON.stringify(link.alias)}${adopt ? `: adopt would overwrite that alias, which is where pulumi-netns puts its marker; clear it first (ip${netns ? ` -n ${netns}` : ""} link set dev ${name} alias "")` : ""})`) +
            `: delete it first (ip${netns ? ` -n ${netns}` : ""} link delete ${name}), choose another name${adopt ? "" : ", or take it over with adopt: true"}`,
    );
}

/** True when the link exists and carries our token (read and delete act only on such links). */
export function owned(link: Link | undefined, owner: string): link is Link {
    return link !== undefined && link.alias === owner;
}
