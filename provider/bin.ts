#!/usr/bin/env node
/**
 * The `pulumi-netns` command (package.json `bin`). One subcommand:
 *
 *   pulumi-netns scan [--host [user@]host[:port]] [--identity FILE] [--host-key 'TYPE BASE64'] [--sudo] [--netns a,b] [--format ts|yaml|import|mermaid]
 *
 * reads the host (this one, or one over SSH with the rules every resource's `connection` follows:
 * known host keys only, no prompt) and prints a Pulumi program of this package's resources with
 * `adopt: true` (TypeScript, or Pulumi YAML for the `pulumi-resource-netns` plugin), the file
 * `pulumi import --file` takes, or a Mermaid diagram. It only reads.
 */
import { readFileSync } from "fs";
import { parseArgs } from "util";
import { Connection } from "./core/schema";
import { renderImport, renderMermaid, renderProgram, renderYaml, scanHost } from "./scan";
import { targetOf } from "./linux/target";

const USAGE = "usage: pulumi-netns scan [--host [user@]host[:port]] [--identity FILE] [--host-key 'TYPE BASE64'] [--sudo] [--netns a,b] [--format ts|yaml|import|mermaid]";

/** What `--format` takes: a TypeScript program, a Pulumi YAML program, a `pulumi import` file, a Mermaid chart. */
const FORMATS = ["ts", "yaml", "import", "mermaid"] as const;
type Format = (typeof FORMATS)[number];

/** `scan`'s arguments. */
export interface ScanArgs {
    connection?: Connection;
    sudo: boolean;
    netns?: string[];
    format: Format;
}

/** Parses `scan`'s arguments; throws with the usage on anything else. */
export function parseScanArgs(argv: string[]): ScanArgs {
    const [command, ...rest] = argv;
    if (command !== "scan") throw new Error(USAGE);
    let values: { host?: string; identity?: string; "host-key"?: string; sudo?: boolean; netns?: string; format?: string };
    try {
        ({ values } = parseArgs({
            args: rest,
            options: { host: { type: "string" }, identity: { type: "string" }, "host-key": { type: "string" }, sudo: { type: "boolean" }, netns: { type: "string" }, format: { type: "string" } },
            strict: true,
            allowPositionals: false,
        }));
    } catch (err) {
        throw new Error(`${(err as Error).message.split("\n")[0]}\n${USAGE}`);
    }
    const format = (values.format ?? "ts") as Format;
    if (!FORMATS.includes(format)) throw new Error(`--format: ts, yaml, import or mermaid, not ${format}\n${USAGE}`);
    const out: ScanArgs = { sudo: values.sudo ?? false, format, netns: values.netns?.split(",").filter(Boolean) };
    if (values.host !== undefined) {
        const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(values.host);
        if (!m) throw new Error(`--host: expected [user@]host[:port]\n${USAGE}`);
        out.connection = { host: m[2].replace(/^\[|\]$/g, ""), user: m[1], port: m[3] ? Number(m[3]) : undefined };
    }
    if ((values.identity !== undefined || values["host-key"] !== undefined) && !out.connection) throw new Error(`--identity and --host-key need --host\n${USAGE}`);
    if (values.identity !== undefined) out.connection!.privateKey = readFileSync(values.identity, "utf8");
    if (values["host-key"] !== undefined) out.connection!.hostKey = values["host-key"];
    if (out.connection) {
        const c = Connection.safeParse(out.connection);
        if (!c.success) throw new Error(`--host: ${c.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    return out;
}

/** What `scan` prints: the host read, in the format asked for. */
export async function scanOutput(args: ScanArgs): Promise<string> {
    const topo = await scanHost(targetOf({ connection: args.connection, sudo: args.sudo }), args.netns);
    const { privateKey: _k, hostKey: _h, ...shown } = args.connection ?? ({} as Connection);
    const source = args.connection ? `${shown.user ? `${shown.user}@` : ""}${shown.host}` : "this host";
    const target = { connection: args.connection && { host: shown.host, user: shown.user, port: shown.port }, sudo: args.sudo };
    switch (args.format) {
        case "mermaid": return renderMermaid(topo);
        case "import": return renderImport(topo);
        case "yaml": return renderYaml(topo, target, source);
        case "ts": return renderProgram(topo, target, source);
    }
}

async function main(): Promise<void> {
    process.stdout.write(await scanOutput(parseScanArgs(process.argv.slice(2))));
}

if (require.main === module) {
    main().then(
        () => process.exit(0), // ssh masters linger (ControlPersist): do not wait for them
        (err: Error) => {
            process.stderr.write(`pulumi-netns scan: ${err.message}\n`);
            process.exit(1);
        },
    );
}
