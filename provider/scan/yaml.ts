/**
 * scan's Pulumi YAML program: the declarations (declarations.ts) as a complete `Pulumi.yaml` whose
 * resources are the `pulumi-resource-netns` plugin's (`netns:index:KIND`), every one with `adopt: true`,
 * references as `${name.output}` interpolations; what no resource models as comments. Written by hand
 * (the package's only runtime dependency is zod), every string through {@link yamlString}.
 */
import { existsSync } from "fs";
import * as path from "path";
import { declare, Ref } from "./declarations";
import { header, ProgramTarget, unmodelledLines } from "./program";
import type { Topology } from "./topology";

/** Words YAML 1.1 (which some parsers still follow) reads as booleans or null when left unquoted. */
const RESERVED = /^(y|n|yes|no|true|false|on|off|null)$/i;

/**
 * A string as a YAML scalar that reads back as exactly that string, in block and in flow context:
 * plain when it is a word that cannot be taken for anything else (a letter first, then only letters,
 * digits and `_ . / @ + -`, and not a YAML 1.1 boolean or null), else double-quoted, with `"` and `\`
 * escaped and every character outside printable ASCII but letters beyond it as `\uXXXX`.
 */
export function yamlString(s: string): string {
    if (/^[A-Za-z][A-Za-z0-9_./@+-]*$/.test(s) && !RESERVED.test(s)) return s;
    let out = '"';
    for (const ch of s) {
        const c = ch.codePointAt(0)!;
        if (ch === '"' || ch === "\\") out += `\\${ch}`;
        else if (c >= 0x20 && c < 0x7f) out += ch;
        // Beyond ASCII: printable characters as they are; C1 controls, line and paragraph separators, the BOM and lone surrogates escaped.
        else if (c >= 0xa0 && c !== 0x2028 && c !== 0x2029 && c !== 0xfeff && !(c >= 0xd800 && c <= 0xdfff)) out += ch;
        else out += `\\u${c.toString(16).padStart(4, "0")}`;
    }
    return `${out}"`;
}

/** A Pulumi YAML expression naming a resource (`${br0}`) or its output (`${br0.name}`): a name other than a word as `["name"]`. */
export function yamlRef(key: string, output?: string): string {
    const root = /^[A-Za-z_$][A-Za-z0-9_$-]*$/.test(key) ? key : `["${key.replace(/"/g, '\\"')}"]`;
    return `\${${root}${output === undefined ? "" : `.${output}`}}`;
}

/** A literal string as Pulumi YAML takes it: every value is an interpolation there, where `$$` is one `$`. */
const text = (s: string) => s.replace(/\$/g, "$$$$");

/** A Pulumi YAML expression, written as it is (not escaped as a literal string is). */
class Expr {
    constructor(readonly text: string) {}
}

/** A value as YAML: the lines after `key:` (a scalar or flow list on the same line, a block mapping below it). */
function value(v: unknown, indent: string): { inline: string } | { block: string[] } {
    if (v instanceof Ref) return { inline: yamlString(yamlRef(v.ref, v.output)) };
    if (v instanceof Expr) return { inline: yamlString(v.text) };
    if (typeof v === "string") return { inline: yamlString(text(v)) };
    if (typeof v === "number" || typeof v === "boolean") return { inline: String(v) };
    if (v === null || v === undefined) return { inline: "null" };
    if (Array.isArray(v)) {
        const items = v.map((x) => value(x, `${indent}  `));
        if (items.every((x): x is { inline: string } => "inline" in x)) return { inline: `[${items.map((x) => x.inline).join(", ")}]` };
        return { block: items.flatMap((x) => ("inline" in x ? [`${indent}- ${x.inline}`] : [`${indent}- ${x.block[0].trimStart()}`, ...x.block.slice(1).map((l) => `  ${l}`)])) };
    }
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined);
    if (!entries.length) return { inline: "{}" };
    return { block: entries.flatMap(([k, x]) => mapping(k, x, indent)) };
}

/** `key: value` as YAML lines at `indent`. */
function mapping(key: string, v: unknown, indent: string): string[] {
    const r = value(v, `${indent}  `);
    return "inline" in r ? [`${indent}${yamlString(key)}: ${r.inline}`] : [`${indent}${yamlString(key)}:`, ...r.block];
}

/**
 * The folder holding the `pulumi-resource-netns` executable: `bin/` at the root of the installed
 * package (the nearest folder above this file with a package.json: the checkout, or
 * node_modules/pulumi-netns, whether this runs from provider/ or from dist/provider/).
 */
export function pluginDir(): string {
    let dir = __dirname;
    while (!existsSync(path.join(dir, "package.json")) && path.dirname(dir) !== dir) dir = path.dirname(dir);
    return path.join(dir, "bin");
}

/** The Pulumi YAML program (a whole `Pulumi.yaml`) declaring the topology, every resource with `adopt: true`. */
export function renderYaml(topo: Topology, target: ProgramTarget = {}, source = "this host", plugins = pluginDir()): string {
    const lines = [
        ...header(source).map((l) => `# ${l}`),
        ...mapping("name", "netns-scan", ""),
        ...mapping("runtime", "yaml", ""),
        // The provider plugin from this package's own folder (`pulumi-resource-netns`), not from a plugin registry.
        "plugins:",
        "  providers:",
        `    - name: netns`,
        `      path: ${yamlString(plugins)}`,
    ];
    const decls = declare(topo);
    const common: Record<string, unknown> = {};
    if (target.connection) {
        // A variable's name is a resource's too: one no declaration has.
        let connection = "connection";
        while (decls.some((d) => d.key === connection)) connection += "_";
        lines.push(
            `# Add the key: privateKey: \${sshKey}, with config: {sshKey: {type: string, secret: true}} (pulumi config set --secret sshKey …), and hostKey; or an agent.`,
            "variables:",
            ...mapping(connection, target.connection, "  "),
        );
        common.connection = new Expr(yamlRef(connection));
    }
    if (target.sudo) common.sudo = true;
    common.adopt = true;
    if (decls.length) lines.push("resources:");
    for (const d of decls) {
        lines.push(
            ...d.comments.map((c) => `  # ${c}`),
            `  ${yamlString(d.key)}:`,
            ...mapping("type", `netns:index:${d.kind}`, "    "),
            ...mapping("properties", { ...d.inputs, ...common }, "    "),
            ...(d.dependsOn.length ? mapping("options", { dependsOn: d.dependsOn.map((k) => new Expr(yamlRef(k))) }, "    ") : []),
        );
    }
    const notes = unmodelledLines(topo);
    if (notes.length) lines.push("", ...notes.map((l) => `# ${l}`));
    return lines.join("\n") + "\n";
}
