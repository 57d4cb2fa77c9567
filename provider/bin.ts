#!/usr/bin/env node
/**
 * The `pulumi-netns` command (package.json `bin`). One subcommand:
 *
 *   pulumi-netns scan [--host [user@]host[:port]] [--identity FILE] [--host-key 'TYPE BASE64'] [--sudo] [--netns a,b] [--format ts|mermaid]
 *
 * reads the host (this one, or one over SSH with the rules every resource's `connection` follows:
 * known host keys only, no prompt) and prints a Pulumi program of this package's resources with
 * `adopt: true`, or a Mermaid diagram. It only reads.
 */
import { readFileSync } from "fs";
import { Connection } from "./core/schema";
import { renderMermaid, renderProgram, scanHost } from "./scan";
import { targetOf } from "./linux/target";

const USAGE = "usage: pulumi-netns scan [--host [user@]host[:port]] [--identity FILE] [--host-key 'TYPE BASE64'] [--sudo] [--netns a,b] [--format ts|mermaid]";

/** Parses `scan`'s arguments; throws with the usage on anything else. */
export function parseScanArgs(argv: string[]): { connection?: Connection; sudo: boolean; netns?: string[]; format: "ts" | "mermaid" } {
    const [command, ...rest] = argv;
    if (command !== "scan") throw new Error(USAGE);
    const out: ReturnType<typeof parseScanArgs> = { sudo: false, format: "ts" };
    let identity: string | undefined;
    let hostKey: string | undefined;
    for (let i = 0; i < rest.length; i++) {
        const [flag, value] = [rest[i], rest[i + 1]];
        const take = () => {
            if (value === undefined || value.startsWith("--")) throw new Error(`${flag} needs a value\n${USAGE}`);
            i++;
            return value;
        };
        if (flag === "--host") {
            const m = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(take());
            if (!m) throw new Error(`--host: expected [user@]host[:port]\n${USAGE}`);
            out.connection = { host: m[2].replace(/^\[|\]$/g, ""), user: m[1], port: m[3] ? Number(m[3]) : undefined };
        } else if (flag === "--identity") identity = take();
        else if (flag === "--host-key") hostKey = take();
        else if (flag === "--sudo") out.sudo = true;
        else if (flag === "--netns") out.netns = take().split(",").filter(Boolean);
        else if (flag === "--format") {
            const f = take();
            if (f !== "ts" && f !== "mermaid") throw new Error(`--format: ts or mermaid, not ${f}\n${USAGE}`);
            out.format = f;
        } else throw new Error(`unknown argument ${flag}\n${USAGE}`);
    }
    if ((identity !== undefined || hostKey !== undefined) && !out.connection) throw new Error(`--identity and --host-key need --host\n${USAGE}`);
    if (identity !== undefined) out.connection!.privateKey = readFileSync(identity, "utf8");
    if (hostKey !== undefined) out.connection!.hostKey = hostKey;
    if (out.connection) {
        const c = Connection.safeParse(out.connection);
        if (!c.success) throw new Error(`--host: ${c.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`);
    }
    return out;
}

async function main(): Promise<void> {
    const args = parseScanArgs(process.argv.slice(2));
    const topo = await scanHost(targetOf({ connection: args.connection, sudo: args.sudo }), args.netns);
    const { privateKey: _k, hostKey: _h, ...shown } = args.connection ?? ({} as Connection);
    const source = args.connection ? `${shown.user ? `${shown.user}@` : ""}${shown.host}` : "this host";
    process.stdout.write(args.format === "mermaid" ? renderMermaid(topo) : renderProgram(topo, { connection: args.connection && { host: shown.host, user: shown.user, port: shown.port }, sudo: args.sudo }, source));
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
