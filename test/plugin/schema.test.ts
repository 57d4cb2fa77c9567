/** plugin/schema: the package schema agrees with the checks and the classes on every property (pure). */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { z } from "zod";
import { inputKeys, TargetFields } from "../../provider/core/schema";
import { kinds } from "../../provider/handlers";
import { BridgedNetworkSchema } from "../../provider/components/bridged-network";
import { BridgedNetworkOutputFields, packageSchema, type TypeSpec } from "../../provider/plugin/schema";

const REPO_ROOT = path.join(__dirname, "..", "..");
const built = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "dist", "schema.json"), "utf8"));
const version = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).version;

/** A value of a package-schema type (the first alternative of a union), to feed back to the zod schema's type check. */
function sample(t: TypeSpec, types: Record<string, any>): unknown {
    if (t.oneOf) return sample(t.oneOf[0], types);
    if (t.$ref) {
        const spec = types[t.$ref.replace("#/types/", "")];
        return Object.fromEntries(Object.entries(spec.properties as Record<string, TypeSpec>).map(([k, p]) => [k, sample(p, types)]));
    }
    switch (t.type) {
        case "string": return "x";
        case "integer": case "number": return 1;
        case "boolean": return true;
        case "array": return [sample(t.items!, types)];
        case "object": return { k: sample(t.additionalProperties!, types) };
    }
    throw new Error(`no sample for ${JSON.stringify(t)}`);
}

/** The zod issues of `value` that are about its type (not about a rule such as a pattern, a range or a list of allowed values). */
function typeIssues(schema: z.ZodType, value: unknown): string[] {
    const r = schema.safeParse(value);
    return r.success ? [] : r.error.issues.filter((i) => i.code === "invalid_type" || i.code === "unrecognized_keys").map((i) => `${i.path.join(".")}: ${i.message}`);
}

describe("plugin/schema", () => {
    const schema = packageSchema(version, JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "dist", "descriptions.json"), "utf8")));

    it("is what the build wrote to dist/schema.json", () => {
        assert.deepEqual(built, schema);
        assert.equal(built.version, version);
    });

    for (const [kind, spec] of Object.entries(kinds)) {
        it(`${kind}: its inputs are the check's, each documented by the class's argument type, its outputs those and the output fields`, () => {
            const r = schema.resources[`netns:index:${kind}`];
            assert.deepEqual(Object.keys(r.inputProperties).sort(), [...inputKeys(spec.schema as z.ZodObject), ...Object.keys(TargetFields)].filter((k) => k !== "owner").sort());
            assert.deepEqual(Object.keys(r.properties).sort(), [...new Set([...Object.keys(r.inputProperties), "owner", ...Object.keys(spec.outputs.shape)])].sort());
            const undocumented = Object.entries(r.inputProperties).filter(([, p]) => !(p as { description?: string }).description).map(([k]) => k);
            assert.deepEqual(undocumented, [], `${kind}Args documents none of ${undocumented.join(", ")}`);
            assert.ok(r.description, `class ${kind} has no doc comment`);
            assert.equal(r.inputProperties.connection.secret, true);
            for (const [k, p] of Object.entries(r.inputProperties)) {
                const field = (spec.schema as z.ZodObject).shape[k] as z.ZodType;
                assert.deepEqual(typeIssues(field, sample(p as TypeSpec, schema.types)), [], `${kind}.${k}: the schema's type ${JSON.stringify(p)} is not the check's`);
            }
        });
    }

    it("BridgedNetwork: a component with the checks' inputs and the class's outputs", () => {
        const r = schema.resources["netns:index:BridgedNetwork"];
        assert.equal(r.isComponent, true);
        assert.deepEqual(Object.keys(r.inputProperties).sort(), [...Object.keys(BridgedNetworkSchema.shape), ...Object.keys(TargetFields)].sort());
        assert.deepEqual(Object.keys(r.properties).sort(), Object.keys(BridgedNetworkOutputFields.shape).sort());
        assert.deepEqual(r.requiredInputs, ["bridge", "cidr", "namespaces"]);
    });

    it("names an object type used by several resources once (Connection, Dns), and every reference resolves", () => {
        assert.ok(schema.types["netns:index:Connection"]);
        assert.ok(schema.types["netns:index:Dns"]);
        const refs = JSON.stringify(schema).match(/#\/types\/[^"]+/g) ?? [];
        for (const ref of refs) assert.ok(schema.types[ref.slice(8)], `${ref} is not a type`);
    });
});
