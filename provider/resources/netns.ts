import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { claimNetns } from "../core/claim";
import { diffInputs, diffResult, same } from "../core/diff";
import { addressProblem, canonicalPrefix } from "../core/ip";
import { describeOwner, OWNER_PREFIX } from "../core/owner";
import { assertAdoptable, Difference, differences } from "../core/adopt";
import { IfName, inputKeys, IpAddress, NetnsName, Owner, stripUndefined, TargetFields, withoutProvider } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { Target, targetId, targetOf } from "../linux/target";
import { CommandError, failedBatchLine } from "../linux/exec";
import { getLink, listLinks, setLink } from "../linux/link";
import { EtcFile, etcDir, etcDirExists, parseHosts, parseResolvConf, readEtcFile, removeEtcDirIfEmpty, removeEtcFile, renderHosts, renderResolvConf, writeEtcFile } from "../linux/etc";
import { addNetns, deleteNetns, NETNS_DIR, NetnsMarker, PENDING_INODE, readNetnsMarker, netnsId, netnsOwner, removeNetnsMarker, writeNetnsMarker } from "../linux/netns";
import { withSchema } from "../core/defaults";

/**
 * Links the kernel puts in every namespace: `lo`, and the fallback devices of tunnel modules
 * (ipip, sit, ip6_tunnel, ip_gre, ip6_gre, ip_vti, ip6_vti) when those are loaded.
 */
const KERNEL_LINKS = new Set(["lo", "tunl0", "sit0", "ip6tnl0", "gre0", "gretap0", "erspan0", "ip6gre0", "ip6erspan0", "ip_vti0", "ip6_vti0"]);

/** A DNS name (RFC 1123 labels of letters, digits, '-' and '_'), as resolv.conf's `search` and a hosts file take it. */
const DomainName = z
    .string({ error: "must be a DNS name" })
    .regex(
        /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/,
        "must be a DNS name: labels of letters, digits, '-' and '_' joined by dots (no spaces, no '-' first or last)",
    );

/** The namespace's resolver, written as `/etc/netns/NAME/resolv.conf` (see resolv.conf(5)). */
export const DnsSchema = z
    .object({
        nameservers: z
            .array(IpAddress)
            .min(1, "give at least one nameserver")
            .max(3, "at most 3 nameservers: the resolver (glibc's MAXNS) reads only the first 3"),
        search: z.array(DomainName).default([]),
        options: z.array(z.string().regex(/^[a-z][a-z0-9_-]*(:\d{1,4})?$/, "must be a resolver option such as ndots:2, timeout:1, attempts:3, rotate or edns0")).default([]),
    })
    .strict();

/** The namespace's hosts file, `/etc/netns/NAME/hosts`: address → names. */
export const HostsSchema = z
    .record(z.string(), z.array(DomainName).min(1, "give at least one name for the address"))
    .superRefine((h, ctx) => {
        const seen = new Map<string, string>();
        for (const address of Object.keys(h)) {
            const why = addressProblem(address, false);
            if (why) ctx.addIssue({ code: "custom", path: [address], message: `must be keyed by IPv4 or IPv6 addresses: ${why}` });
            else if (seen.has(canonicalPrefix(address))) ctx.addIssue({ code: "custom", path: [address], message: `is the same address as "${seen.get(canonicalPrefix(address))}"` });
            else seen.set(canonicalPrefix(address), address);
        }
    })
    .transform((h) => Object.fromEntries(Object.entries(h).map(([a, names]) => [canonicalPrefix(a), names])));

/** Inputs of a {@link Netns}, validated and with defaults filled. */
export const NetnsSchema = z
    .object({
        name: NetnsName,
        loopbackUp: z.boolean().default(true),
        dns: DnsSchema.optional(),
        hosts: HostsSchema.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict();
export type NetnsSchema = z.infer<typeof NetnsSchema>;

/** State of a {@link Netns}: the inputs plus the namespace's path. */
export const NetnsOutputFields = z.object({ path: z.string() });
export type NetnsOutputs = NetnsSchema & z.infer<typeof NetnsOutputFields>;

const KEYS = inputKeys(NetnsSchema);

function outputs(a: NetnsSchema): NetnsOutputs {
    return stripUndefined({ ...a, path: `${NETNS_DIR}/${a.name}` });
}

/** The /etc files a Netns declares, each with its text (undefined: not declared). */
function etcFiles(a: NetnsSchema): [EtcFile, string | undefined][] {
    return [
        ["resolv.conf", a.dns && renderResolvConf(a.dns, a.owner)],
        ["hosts", a.hosts && renderHosts(a.hosts, a.owner)],
    ];
}

/**
 * Reads the namespace's /etc files and fails, changing nothing, when one this resource declares
 * exists and was not written by it: pulumi-netns never overwrites a file it did not write.
 */
async function readEtcFiles(t: Target, a: NetnsSchema, adopting = false) {
    const found = await Promise.all(etcFiles(a).map(async ([file, text]) => ({ file, text, found: await readEtcFile(t, a.name, file) })));
    for (const { file, text, found: f } of found) {
        if (text === undefined || f === undefined || f.owner === a.owner) continue;
        if (adopting && f.owner === undefined) continue; // compared with the declaration by etcDifferences before

        throw new Error(
            `${etcDir(a.name)}/${file} exists and was not written by this resource ` +
                `(${f.owner ? `it belongs to ${describeOwner(f.owner).text}` : "it has no pulumi-netns marker on its first line"}): ` +
                `pulumi-netns never overwrites it. Move it away (\`ip netns exec ${a.name}\` shows it as /etc/${file}) or leave ${file === "hosts" ? "hosts" : "dns"} out`,
        );
    }
    return found;
}

/** How the namespace's unmarked /etc files differ from the declaration (for `adopt`: a declared file must exist and say the same). */
async function etcDifferences(t: Target, a: NetnsSchema): Promise<Difference[]> {
    const diffs: Difference[] = [];
    const [resolv, hosts] = await Promise.all([a.dns && readEtcFile(t, a.name, "resolv.conf"), a.hosts && readEtcFile(t, a.name, "hosts")]);
    if (a.dns && resolv?.owner === undefined) {
        diffs.push(...(resolv ? differences(a.dns, parseResolvConf(resolv.text), ["nameservers", "search", "options"], "dns.") : [{ property: "dns", declared: a.dns, found: undefined }]));
    }
    if (a.hosts && hosts?.owner === undefined) {
        const found = hosts ? parseHosts(hosts.text, a.hosts) : undefined;
        if (!same(found, a.hosts)) diffs.push({ property: "hosts", declared: a.hosts, found });
    }
    return diffs;
}

/**
 * Makes the namespace's /etc files match the declaration: writes each declared one that differs,
 * removes ours that are no longer declared, and the folder when it is left empty and this resource
 * made it (recorded in the namespace's marker before it makes the folder). Equivalent to writing
 * (or `rm -f`) `/etc/netns/NAME/resolv.conf` and `/etc/netns/NAME/hosts`, and `rm -d /etc/netns/NAME`.
 */
async function applyEtcFiles(t: Target, a: NetnsSchema, marker: NetnsMarker, adopting = false): Promise<void> {
    const files = await readEtcFiles(t, a, adopting);
    const declared = files.some((f) => f.text !== undefined);
    if (declared && !marker.etcDir && !(await etcDirExists(t, a.name))) {
        await writeNetnsMarker(t, a.name, (marker = { ...marker, etcDir: true })); // before the folder exists: a crash still leaves it known as ours
    }
    for (const { file, text, found } of files) {
        if (text !== undefined && found?.text !== text) await writeEtcFile(t, a.name, file, text);
        if (text === undefined && found?.owner === a.owner) await removeEtcFile(t, a.name, file);
    }
    if (!declared && marker.etcDir) await removeEtcFolder(t, a.name, marker);
}

/** Removes the namespace's /etc folder if this resource made it and it is empty, and forgets it in the marker. */
async function removeEtcFolder(t: Target, name: string, marker: NetnsMarker): Promise<void> {
    await removeEtcDirIfEmpty(t, name);
    if (!(await etcDirExists(t, name))) {
        const { etcDir: _, ...rest } = marker;
        await writeNetnsMarker(t, name, rest);
    }
}

/** Removes the declared /etc files this resource wrote, and the folder when this resource made it and it is left empty. */
async function removeEtcFiles(t: Target, a: NetnsSchema, marker: NetnsMarker | undefined): Promise<void> {
    await Promise.all(
        etcFiles(a).map(async ([file, text]) => {
            if (text !== undefined && (await readEtcFile(t, a.name, file))?.owner === a.owner) await removeEtcFile(t, a.name, file);
        }),
    );
    if (marker?.owner === a.owner && marker.etcDir) await removeEtcDirIfEmpty(t, a.name);
}

/** The provider behind {@link Netns}. */
export const netnsProvider: pulumi.dynamic.ResourceProvider = withSchema(NetnsSchema, {
    async diff(_id, olds, news) {
        const { changed, replaces } = diffInputs(olds, news, { keys: KEYS, replace: ["name"] });
        return diffResult(changed, replaces);
    },

    async create(inputs) {
        const a = NetnsSchema.parse(withoutProvider(inputs));
        const t = targetOf(a);
        let claim = await claimNetns(t, a.name, a.owner, a.adopt);
        if (claim === "unmarked") {
            // adopt: a namespace made by hand, taken over only as it is (its lo, its /etc files); then only marked.
            const lo = await getLink(t, "lo", a.name);
            const diffs = [...differences(a, { loopbackUp: lo?.up ?? false }, ["loopbackUp"]), ...(await etcDifferences(t, a))];
            assertAdoptable(`namespace "${a.name}"`, diffs);
        }
        if (a.dns || a.hosts) await readEtcFiles(t, a, claim === "unmarked"); // a file of someone else's where ours would go: fail before making anything
        let made = false; // by this call, with lo already as declared
        const undo = async () => {
            await removeEtcFiles(t, a, await readNetnsMarker(t, a.name));
            await deleteNetns(t, a.name);
            await removeNetnsMarker(t, a.name);
        };
        if (claim === "absent") {
            await writeNetnsMarker(t, a.name, { owner: a.owner, inode: PENDING_INODE });
            try {
                await addNetns(t, a.name, a.loopbackUp);
                made = true;
            } catch (err) {
                if ((failedBatchLine(err) ?? 1) > 1) {
                    await undo(); // made, but bringing lo up failed
                    throw err;
                }
                // Our pending marker only: a concurrent create of the same name may have written its own.
                const m = await readNetnsMarker(t, a.name);
                if (m?.owner === a.owner && m.inode === PENDING_INODE) await removeNetnsMarker(t, a.name);
                // Another create made it since the claim: name who holds it now (never adopt it blindly).
                if (!(err instanceof CommandError && /File exists/.test(err.stderr))) throw err;
                claim = await claimNetns(t, a.name, a.owner);
                if (claim === "absent") throw err;
            }
        }
        try {
            const previous = made ? undefined : await readNetnsMarker(t, a.name); // adopting: keep what it knows of the /etc folder
            const marker: NetnsMarker = { owner: a.owner, ...(await netnsId(t, a.name))!, ...(previous?.etcDir ? { etcDir: true } : {}) };
            await writeNetnsMarker(t, a.name, marker);
            if (claim === "ours") await setLink(t, "lo", a.name, { up: a.loopbackUp });
            if (a.dns || a.hosts || marker.etcDir) await applyEtcFiles(t, a, marker, claim === "unmarked");
        } catch (err) {
            if (made) await undo();
            throw err;
        }
        return { id: targetId(t, a.name), outs: outputs(a) };
    },

    async read(id, props) {
        const a = props as NetnsOutputs;
        const t = targetOf(a);
        if ((await netnsOwner(t, a.name)) !== a.owner) return { id: "", props: {} };
        const [lo, resolv, hosts] = await Promise.all([
            getLink(t, "lo", a.name),
            a.dns ? readEtcFile(t, a.name, "resolv.conf") : undefined,
            a.hosts ? readEtcFile(t, a.name, "hosts") : undefined,
        ]);
        return {
            id,
            props: outputs({
                ...a,
                loopbackUp: lo?.up ?? false,
                // A file edited shows as what it now says; one removed, or no longer ours, as none (the next up writes it again, or refuses to).
                dns: resolv?.owner === a.owner ? parseResolvConf(resolv.text) : undefined,
                hosts: hosts?.owner === a.owner ? parseHosts(hosts.text, a.hosts!) : undefined,
            }),
        };
    },

    async update(_id, olds, news) {
        const a = NetnsSchema.parse(withoutProvider(news));
        const t = targetOf(a);
        // Only a namespace still carrying our marker is modified (not one deleted and re-made by someone else).
        const old = olds as NetnsOutputs;
        if ((await netnsOwner(t, a.name)) !== old.owner) {
            throw new Error(`namespace "${a.name}" is gone or no longer carries this resource's marker: run pulumi refresh`);
        }
        let marker = (await readNetnsMarker(t, a.name))!;
        if (a.owner !== old.owner) {
            await writeNetnsMarker(t, a.name, (marker = { ...marker, owner: a.owner, ...(await netnsId(t, a.name))! }));
        }
        await setLink(t, "lo", a.name, { up: a.loopbackUp });
        if (a.dns || a.hosts || old.dns || old.hosts || marker.etcDir) await applyEtcFiles(t, a, marker);
        return { outs: outputs(a) };
    },

    /**
     * Deletes the namespace if it carries our marker, with the veths pulumi-netns made in it (in the
     * same process). Refuses (touching nothing) while it still holds links pulumi-netns did not make:
     * deleting the namespace would destroy them, and with a veth the peer end outside it too. Delete
     * those links, or the namespace by hand, and run again.
     */
    async delete(_id, props) {
        const a = props as NetnsOutputs;
        const t = targetOf(a);
        const ours = (await netnsOwner(t, a.name)) === a.owner;
        // A namespace that is gone, or that was replaced by one we did not make, is not ours to delete.
        if (ours) {
            const links = await listLinks(t, a.name);
            const foreign = links.filter((l) => !KERNEL_LINKS.has(l.name) && !l.alias?.startsWith(OWNER_PREFIX));
            if (foreign.length > 0) {
                // One delete per veth pair: deleting one end takes the other (in here too) with it.
                const names = new Set(foreign.map((l) => l.name));
                const deletes = foreign.filter((l) => !(l.kind === "veth" && l.peer && names.has(l.peer) && l.peer < l.name));
                throw new Error(
                    `namespace "${a.name}" still holds links that pulumi-netns did not make: ` +
                        `${foreign.map((l) => `${l.name} (${l.kind ?? "device"})`).join(", ")}; deleting it would destroy them. ` +
                        `Delete them first (${deletes.map((l) => `ip -n ${a.name} link delete ${l.name}${l.kind === "veth" && l.peer && names.has(l.peer) ? ` (also deletes its peer ${l.peer})` : ""}`).join("; ")}), then run again ` +
                        `(this delete then also removes the veths pulumi-netns made in it)`,
                );
            }
            // Veths pulumi-netns made in here go with it, at once (a VethPair with `deletedWith` this namespace leaves them to this delete).
            const veths = links.filter((l) => l.kind === "veth" && l.alias?.startsWith(OWNER_PREFIX) && IfName.safeParse(l.name).success);
            await deleteNetns(t, a.name, veths.map((l) => l.name));
        }
        // Our /etc files go even when the namespace went by hand (they carry our token; the folder only if we made it).
        if (a.dns || a.hosts) await removeEtcFiles(t, a, await readNetnsMarker(t, a.name));
        await removeNetnsMarker(t, a.name);
    },
});

/** Arguments of {@link Netns}. */
export interface NetnsArgs extends TargetArgs {
    /** The namespace's name (a file under /run/netns). Default: the resource name. */
    name?: pulumi.Input<string | undefined>;
    /** Bring `lo` up inside the namespace. Default: true. */
    loopbackUp?: pulumi.Input<boolean | undefined>;
    /**
     * The namespace's resolver, written as `/etc/netns/NAME/resolv.conf` (what `ip netns exec NAME`
     * shows as /etc/resolv.conf): up to 3 `nameservers`, `search` domains, resolver `options`.
     */
    dns?: pulumi.Input<DnsArgs | undefined>;
    /**
     * The namespace's hosts file, `/etc/netns/NAME/hosts`: address → names. `localhost` entries are
     * added unless this gives entries for 127.0.0.1 or ::1.
     */
    hosts?: pulumi.Input<Record<string, pulumi.Input<pulumi.Input<string>[]>> | undefined>;
}

/** The `dns` input of {@link Netns} (and `BridgedNetwork`). */
export interface DnsArgs {
    nameservers: pulumi.Input<pulumi.Input<string>[]>;
    search?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    options?: pulumi.Input<pulumi.Input<string>[] | undefined>;
}

/** Netns's outputs: every input as check normalised it, and what the kernel reports. */
export interface Netns extends ResourceOutputs<NetnsOutputs> {}

/**
 * A named network namespace. Equivalent to: `ip netns add NAME` and `ip -n NAME link set lo up`,
 * and with `dns` / `hosts` writing `/etc/netns/NAME/resolv.conf` / `hosts`.
 */
export class Netns extends pulumi.CustomResource {
    constructor(name: string, args: NetnsArgs = {}, opts?: pulumi.CustomResourceOptions) {
        const r = registration("Netns", name, { name, ...args }, KEYS, inputKeys(NetnsOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
