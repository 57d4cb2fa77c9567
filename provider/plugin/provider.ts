/**
 * The provider plugin `pulumi-resource-netns`: the same handlers the dynamic resources run (see
 * handlers.ts), served to the engine under the type tokens `netns:index:<Kind>`, so that programs in
 * every Pulumi language (YAML, Python, …) can declare them, and `pulumi import` can take over what
 * exists. This file is the plugin's thin host: it names each resource's owner from its URN (the
 * dynamic resources' class does it from the program), keeps secrets secret, answers `pulumi import`
 * and constructs the `BridgedNetwork` component.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as provider from "@pulumi/pulumi/provider";
import { BridgedNetwork, type BridgedNetworkArgs } from "../components/bridged-network";
import { ownerToken, RESOURCE_NAME } from "../core/owner";
import type { Kind } from "../core/resource";
import { kinds } from "../handlers";
import { targetOf } from "../linux/target";
import { importInputs } from "../scan";
import { BridgedNetworkOutputFields, COMPONENT, PACKAGE, type PackageSchema } from "./schema";

type Props = Record<string, unknown>;

/** How the engine marks a secret value in the properties it sends and takes (sdk/go/common/resource/sig). */
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(v: unknown): v is { value: unknown } {
    return typeof v === "object" && v !== null && (v as Props)[SIG_KEY] === SECRET_SIG;
}

/** `v` with every secret inside it unwrapped, and whether there was one. */
function reveal(v: unknown): { value: unknown; secret: boolean } {
    if (isSecret(v)) return { value: reveal(v.value).value, secret: true };
    if (Array.isArray(v)) {
        const items = v.map(reveal);
        return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
    }
    if (typeof v === "object" && v !== null) {
        const entries = Object.entries(v).map(([k, x]) => [k, reveal(x)] as const);
        return { value: Object.fromEntries(entries.map(([k, x]) => [k, x.value])), secret: entries.some(([, x]) => x.secret) };
    }
    return { value: v, secret: false };
}

/**
 * The engine's properties as the handlers take them (plain values), and the top-level keys that
 * held a secret: those, and `connection` (it may hold a private key), are secret in what the plugin
 * returns, so they stay secret in the state.
 */
function plain(props: Props): { props: Props; secrets: Set<string> } {
    const out: Props = {};
    const secrets = new Set(["connection"]);
    for (const [k, v] of Object.entries(props ?? {})) {
        const r = reveal(v);
        out[k] = r.value;
        if (r.secret) secrets.add(k);
    }
    return { props: out, secrets };
}

function conceal(props: Props, secrets: Set<string>): Props {
    const out: Props = { ...props };
    for (const k of secrets) if (out[k] !== undefined && out[k] !== null) out[k] = { [SIG_KEY]: SECRET_SIG, value: out[k] };
    return out;
}

/** A resource's URN in its parts: `urn:pulumi:STACK::PROJECT::[PARENT$]TYPE::NAME`. */
export function parseUrn(urn: string): { stack: string; project: string; type: string; name: string } {
    const [head, project, type, ...name] = urn.split("::");
    if (!head?.startsWith("urn:pulumi:") || type === undefined || name.length === 0) throw new Error(`not a resource URN: ${urn}`);
    return { stack: head.slice("urn:pulumi:".length), project, type: type.split("$").pop()!, name: name.join("::") };
}

/** The kind a URN's type names (`netns:index:VethPair` → VethPair). */
function kindOf(urn: string): Kind {
    const { type } = parseUrn(urn);
    const kind = type.startsWith(`${PACKAGE}:index:`) ? type.slice(PACKAGE.length + 7) : undefined;
    if (kind === undefined || !(kind in kinds)) throw new Error(`pulumi-resource-netns has no resource type ${type} (it has ${Object.keys(kinds).map((k) => `${PACKAGE}:index:${k}`).join(", ")})`);
    return kind as Kind;
}

/** The owner token of the resource a URN names: the one the dynamic resource class of that project, stack and name computes. */
function ownerOf(urn: string): { owner: string; resourceName: string } {
    const { stack, project, name } = parseUrn(urn);
    const kind = kindOf(urn);
    return { owner: ownerToken(project, stack, kind, name), resourceName: `${kind} "${name}"` };
}

/**
 * The plugin's provider. `check` adds the owner token (and the resource's name, for messages) to the
 * program's inputs; the rest passes the handlers plain values and returns their results with the
 * secrets wrapped again. `read` without properties is `pulumi import`.
 */
export function netnsProvider(version: string, schema: PackageSchema): provider.Provider {
    /** URN → the id its create returned in this process (see delete). */
    const created = new Map<string, string>();
    const handler = (urn: string) => kinds[kindOf(urn)].provider;
    return {
        version,
        schema: JSON.stringify(schema),

        async check(urn, olds, news) {
            const n = plain(news);
            const { owner, resourceName } = ownerOf(urn);
            const result = await handler(urn).check!(plain(olds).props, { ...n.props, owner, [RESOURCE_NAME]: resourceName });
            return { inputs: result.inputs && conceal(result.inputs, n.secrets), failures: result.failures };
        },

        async diff(id, urn, olds, news) {
            let n = plain(news).props;
            if (n.owner === undefined) {
                // Inputs never checked: those `pulumi import` stored (the program it writes), which a refresh compares the
                // object with. Checked as a program's are (defaults, the owner), they compare as the program's would.
                const checked = await handler(urn).check!({}, { ...n, ...ownerOf(urn) });
                if (!checked.failures?.length) n = checked.inputs;
            }
            return handler(urn).diff!(id, plain(olds).props, n);
        },

        async create(urn, inputs) {
            const i = plain(inputs);
            const result = await handler(urn).create(i.props);
            created.set(urn, result.id);
            return { id: result.id, outs: conceal(result.outs, i.secrets) };
        },

        async read(id, urn, props) {
            if (!props || Object.keys(props).length === 0) return importResource(id, urn);
            const p = plain(props);
            const result = await handler(urn).read!(id, p.props);
            return { id: result.id, props: result.props && conceal(result.props, p.secrets) };
        },

        async update(id, urn, olds, news) {
            const n = plain(news);
            const result = await handler(urn).update!(id, plain(olds).props, n.props);
            return { outs: result.outs && conceal(result.outs, n.secrets) };
        },

        /**
         * Deletes, except the object a create of this same resource just returned: when the engine
         * replaces create-first (`pulumi up --replace` decides that without asking diff, unless the
         * resource has `deleteBeforeReplace`), the "replacement" found the object carrying its own
         * marker and took it, so the old and the new resource are one kernel object, the new one's.
         */
        async delete(id, urn, props) {
            if (created.get(urn) === id) {
                console.error(`${ownerOf(urn).resourceName}: not deleted: its replacement of this run holds the same object (give the resource deleteBeforeReplace: true to replace it anew)`);
                return;
            }
            await handler(urn).delete!(id, plain(props).props);
        },

        async construct(name, type, inputs, options) {
            if (type !== COMPONENT) throw new Error(`pulumi-resource-netns has no component ${type} (it has ${COMPONENT})`);
            const lan = new BridgedNetwork(name, inputs as unknown as BridgedNetworkArgs, options);
            // Its outputs, as the schema declares them (BridgedNetworkOutputFields), read off the component.
            const state = Object.fromEntries(Object.keys(BridgedNetworkOutputFields.shape).map((k) => [k, lan[k as keyof typeof BridgedNetworkOutputFields.shape]]));
            return { urn: lan.urn, state };
        },
    };

    /**
     * `pulumi import TYPE NAME ID`: finds the object the id names on this machine (the import id
     * grammar of docs/adopt-and-scan.md), takes it over as `adopt: true` does (only pulumi-netns'
     * markers are written; it fails, changing nothing, if another resource's marker is on it), and
     * returns the inputs that declare it as it is, from which the engine writes the program.
     *
     * The engine reads once in the import's preview and once in the import itself, and the plugin
     * cannot tell them apart: the preview already marks the object, and the second read finds it
     * carrying this very resource's marker, which counts as none.
     */
    async function importResource(id: string, urn: string): Promise<pulumi.dynamic.ReadResult> {
        const kind = kindOf(urn);
        const { owner, resourceName } = ownerOf(urn);
        const found = await importInputs(targetOf({}), kind, id, { owner });
        const p = kinds[kind].provider;
        const checked = await p.check!({}, { ...found.inputs, adopt: true, owner, [RESOURCE_NAME]: resourceName });
        if (checked.failures?.length) {
            throw new Error(`${resourceName}: ${id} cannot be declared as it is: ${checked.failures.map((f) => `${f.property}: ${f.reason}`).join("; ")}`);
        }
        const made = await p.create(checked.inputs);
        const { adopt: _a, ...outs } = made.outs as Props;
        return { id: made.id, props: outs, inputs: found.inputs };
    }
}
