/**
 * The provider plugin's package schema (Pulumi's package schema format), generated from the same zod
 * schemas `check` validates with: every kind's inputs and outputs, and the `BridgedNetwork`
 * component's. Property types come from zod's JSON Schema of the inputs; which outputs are always
 * set comes from its JSON Schema of the outputs (a property with a default is always set).
 * Validation rules (patterns, ranges, refinements) stay in `check`, which gives the reasons.
 */
import { z } from "zod";
import { BridgedNetworkSchema } from "../components/bridged-network";
import { pluginToken, type Kind } from "../core/resource";
import { TargetFields } from "../core/schema";
import { kinds } from "../handlers";

/** The plugin's package name: type tokens are `netns:index:<Kind>`, the executable `pulumi-resource-netns`. */
export const PACKAGE = "netns";

/** The component the plugin constructs. */
export const COMPONENT = `${PACKAGE}:index:BridgedNetwork`;

/** What BridgedNetwork outputs (see its class). */
export const BridgedNetworkOutputFields = z.object({
    bridgeName: z.string(),
    gateway: z.string(),
    addresses: z.record(z.string(), z.string()),
    vni: z.number().int().optional(),
});

/** A property's type in a package schema. */
export interface TypeSpec {
    type?: "string" | "integer" | "number" | "boolean" | "array" | "object";
    items?: TypeSpec;
    additionalProperties?: TypeSpec;
    $ref?: string;
    oneOf?: TypeSpec[];
}

interface PropertySpec extends TypeSpec {
    description?: string;
    secret?: boolean;
}

interface ObjectSpec {
    type: "object";
    description?: string;
    properties: Record<string, PropertySpec>;
    required?: string[];
}

interface ResourceSpec {
    description?: string;
    isComponent?: boolean;
    inputProperties: Record<string, PropertySpec>;
    requiredInputs?: string[];
    properties: Record<string, PropertySpec>;
    required?: string[];
}

export interface PackageSchema {
    name: string;
    version: string;
    [key: string]: unknown;
    resources: Record<string, ResourceSpec>;
    types: Record<string, ObjectSpec>;
}

type Json = Record<string, any>;

/** Descriptions by type token and property (read from the classes' doc comments at build time). */
export type Descriptions = Record<string, { description?: string; properties?: Record<string, string> }>;

const pascal = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

/**
 * Converts zod's JSON Schema of one property to a package-schema type. An object with its own
 * properties becomes a named type in `types` (see {@link namer}); a record an `additionalProperties`
 * map; a union of one JSON type collapses to it, a union of several to `oneOf`.
 */
function typeOf(j: Json, path: string[], named: (path: string[], spec: ObjectSpec) => string): TypeSpec {
    if (j.anyOf || j.oneOf) {
        const alts: TypeSpec[] = [];
        for (const [i, alt] of (j.anyOf ?? j.oneOf).entries()) {
            const t = typeOf(alt, [...path, String(i)], named);
            if (!alts.some((a) => JSON.stringify(a) === JSON.stringify(t))) alts.push(t);
        }
        return alts.length === 1 ? alts[0] : { oneOf: alts };
    }
    if (j.const !== undefined || j.enum) {
        const values: unknown[] = j.enum ?? [j.const];
        if (values.every((v) => typeof v === "string")) return { type: "string" };
        if (values.every((v) => Number.isInteger(v))) return { type: "integer" };
        if (values.every((v) => typeof v === "boolean")) return { type: "boolean" };
    }
    switch (j.type) {
        case "string":
        case "boolean":
        case "integer":
            return { type: j.type };
        case "number":
            return { type: "number" };
        case "array":
            return { type: "array", items: typeOf(j.items ?? {}, [...path, "item"], named) };
        case "object":
            if (j.properties) {
                const spec: ObjectSpec = { type: "object", properties: {} };
                for (const [k, v] of Object.entries(j.properties as Json)) spec.properties[k] = typeOf(v, [...path, k], named);
                if (j.required?.length) spec.required = [...j.required].sort();
                return { $ref: `#/types/${named(path, spec)}` };
            }
            return { type: "object", additionalProperties: typeOf(j.additionalProperties ?? {}, [...path, "value"], named) };
    }
    throw new Error(`schema: ${path.join(".")}: no package-schema type for ${JSON.stringify(j)}`);
}

/**
 * Names the object types: a shape used by more than one resource by its property's name
 * (`Connection`, `Dns`), any other by its resource's and its property path's (`BridgedNetworkNat`).
 */
function namer(): { name: (path: string[], spec: ObjectSpec) => string; finish: <T>(value: T) => { value: T; types: Record<string, ObjectSpec> } } {
    const byShape = new Map<string, { spec: ObjectSpec; paths: string[][] }>();
    const PLACEHOLDER = "#/types/{";
    return {
        name(path, spec) {
            const key = JSON.stringify(spec);
            const entry = byShape.get(key) ?? { spec, paths: [] };
            entry.paths.push(path);
            byShape.set(key, entry);
            return key; // a placeholder, replaced by the type's name in finish()
        },
        /** The named types, and `value` with every reference to one by its name. */
        finish(value) {
            const types: Record<string, ObjectSpec> = {};
            const names = new Map<string, string>();
            for (const [key, { spec, paths }] of byShape) {
                const owners = new Set(paths.map((p) => p[0]));
                const leaf = paths[0].filter((s) => !/^\d+$|^item$|^value$/.test(s));
                const base = `${PACKAGE}:index:${owners.size > 1 ? pascal(leaf[leaf.length - 1]) : leaf.map(pascal).join("")}`;
                let name = base;
                for (let i = 2; name in types; i++) name = `${base}${i}`;
                names.set(key, name);
                types[name] = spec;
            }
            const resolve = <V>(v: V): V => JSON.parse(JSON.stringify(v, (_k, x) => (typeof x === "string" && x.startsWith(PLACEHOLDER) ? `#/types/${names.get(x.slice(8))}` : x)));
            return { value: resolve(value), types: resolve(types) };
        },
    };
}

/**
 * The properties of zod object schemas, merged, as package-schema properties, and which of them are
 * always set (`io`: "input", those a program must give; "output", those a resource always has).
 */
function properties(schemas: z.ZodType[], owner: string, named: ReturnType<typeof namer>["name"], io: "input" | "output", omit: string[] = []): { props: Record<string, PropertySpec>; required: string[] } {
    const props: Record<string, PropertySpec> = {};
    const required: string[] = [];
    for (const schema of schemas) {
        const json = z.toJSONSchema(schema, { io: "input", unrepresentable: "any" }) as Json;
        const always = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Json;
        for (const [k, v] of Object.entries(json.properties as Json)) {
            if (omit.includes(k)) continue;
            props[k] = typeOf(v, [owner, k], named);
            if (k === "connection") props[k].secret = true;
        }
        required.push(...((always.required ?? []) as string[]).filter((k) => !omit.includes(k)));
    }
    return { props, required: required.sort() };
}

/**
 * The package schema: `version` as the plugin reports it, and each resource's and the component's
 * inputs and outputs. `owner` is an output only (the plugin derives it from the URN).
 */
export function packageSchema(version: string, descriptions: Descriptions = {}): PackageSchema {
    const types = namer();
    const resources: Record<string, ResourceSpec> = {};
    const describe = (token: string, spec: ResourceSpec) => {
        const d = descriptions[token];
        if (d?.description) spec.description = d.description;
        for (const props of [spec.inputProperties, spec.properties]) {
            for (const [k, p] of Object.entries(props)) if (d?.properties?.[k]) p.description = d.properties[k];
        }
        resources[token] = spec;
    };
    for (const [kind, spec] of Object.entries(kinds) as [Kind, (typeof kinds)[Kind]][]) {
        const inputs = properties([spec.schema], kind, types.name, "input", ["owner"]);
        const outputs = properties([spec.schema, spec.outputs], kind, types.name, "output");
        describe(pluginToken(kind), { inputProperties: inputs.props, requiredInputs: inputs.required, properties: outputs.props, required: outputs.required });
    }
    const lan = properties([BridgedNetworkSchema, z.object(TargetFields)], "BridgedNetwork", types.name, "input");
    const lanOut = properties([BridgedNetworkOutputFields], "BridgedNetwork", types.name, "output");
    describe(COMPONENT, { isComponent: true, inputProperties: lan.props, requiredInputs: lan.required, properties: lanOut.props, required: lanOut.required });
    const { value: resolved, types: named } = types.finish(resources);
    return {
        name: PACKAGE,
        displayName: "pulumi-netns",
        version,
        description: "Linux network namespaces as infrastructure as code: namespaces, veth pairs, bridges, macvlan, VXLAN, routes, NAT and forwarding",
        keywords: ["category/network", "kind/native", "linux", "netns"],
        license: "Apache-2.0",
        publisher: "pulumi-netns",
        language: { python: { packageName: "pulumi_netns", requires: { pulumi: ">=3.0.0,<4.0.0" }, pyproject: { enabled: true }, respectSchemaVersion: true } },
        resources: resolved,
        types: named,
    };
}
