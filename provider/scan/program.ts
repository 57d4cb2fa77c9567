/**
 * scan's TypeScript program: the declarations (declarations.ts) as this package's resources, every one
 * with \`adopt: true\`, wired through outputs so the engine orders them; what no resource models as comments.
 */
import { declare, Declaration, Ref } from "./declarations";
import type { Topology } from "./topology";

export { ident } from "./declarations";

/** How the program reaches the scanned host: the `connection` and `sudo` every resource gets. */
export interface ProgramTarget {
    connection?: { host: string; user?: string; port?: number };
    sudo?: boolean;
}

/** The comment lines every rendered program starts with (without the comment marker). */
export function header(source: string): string[] {
    return [
        `Written by \`pulumi-netns scan\` from ${source} on ${new Date().toISOString().slice(0, 10)}.`,
        "Every resource takes over (adopt: true) what exists as it is: `pulumi up` writes only",
        "pulumi-netns' markers, and fails, changing nothing, where the host no longer matches.",
    ];
}

/** The comment lines listing what was found and not declared (without the comment marker); none when there is nothing. */
export function unmodelledLines(topo: Topology): string[] {
    return topo.unmodelled.length ? ["Found, and not declared here (no resource models it, or a stack already manages it):", ...topo.unmodelled.map((u) => `  ${u}`)] : [];
}

/** The groups a program leaves a blank line after: namespaces, bridges, veth pairs, macvlans and VXLANs, routes; the firewall is one block. */
const GROUP: Partial<Record<Declaration["kind"], number>> = { Netns: 0, Bridge: 1, VethPair: 2, Macvlan: 3, Vxlan: 3, Route: 4 };
export const groupOf = (d: Declaration) => GROUP[d.kind] ?? 5;

/** The TypeScript program that declares the topology, every resource with `adopt: true`. */
export function renderProgram(topo: Topology, target: ProgramTarget = {}, source = "this host"): string {
    const lit = (v: unknown) => JSON.stringify(v);
    const lines = [...header(source).map((l) => `// ${l}`), 'import * as netns from "pulumi-netns";', ""];
    const common: [string, string][] = [];
    if (target.connection) {
        lines.push(
            `// Add the key: privateKey: new pulumi.Config().requireSecret("sshKey") (and hostKey), or an agent.`,
            `const connection = ${lit(target.connection)};`,
            "",
        );
        common.push(["connection", "connection"]);
    }
    if (target.sudo) common.push(["sudo", "true"]);
    common.push(["adopt", "true"]);

    const decls = declare(topo);
    const variable = new Map(decls.map((d) => [d.key, d.variable]));
    const code = (v: unknown) => (v instanceof Ref ? `${variable.get(v.ref)}.${v.output}` : lit(v));
    decls.forEach((d, i) => {
        const props = [...Object.entries(d.inputs).map(([k, v]) => `${k}: ${code(v)}`), ...common.map(([k, v]) => `${k}: ${v}`)];
        const after = d.dependsOn.length ? `, { dependsOn: [${d.dependsOn.map((k) => variable.get(k)).join(", ")}] }` : "";
        lines.push(...d.comments.map((c) => `// ${c}`), `${d.variable ? `const ${d.variable} = ` : ""}new netns.${d.kind}(${lit(d.name)}, { ${props.join(", ")} }${after});`);
        if (groupOf(d) < 5 && (i === decls.length - 1 || groupOf(decls[i + 1]) !== groupOf(d))) lines.push("");
    });
    const notes = unmodelledLines(topo);
    if (notes.length) lines.push("", ...notes.map((l) => `// ${l}`));
    return lines.join("\n") + "\n";
}
