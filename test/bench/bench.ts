/**
 * `npm run bench`: the package (BridgedNetwork through the engine double, i.e. the real
 * dynamic-provider host) against the hand-written script (script.sh), alternating A B A B, for
 * N = 10, 50, 200 namespaces. Then, in the same rounds, the real Pulumi CLI (test/e2e/cli.ts) on
 * the same program and on the do-nothing floor (noop-program: the same resource graph, a provider
 * that does nothing), with the file backend's checkpoints and with PULUMI_SKIP_CHECKPOINTS=true.
 * Prints a table of medians, writes results.json, results.md and results.svg. The real CLI's part
 * takes longer than the rest at N=200: with checkpoints, the file backend writes the whole state
 * (which grows with N) twice per step, so up and destroy cost the CLI CPU time growing as N².
 * Then the same BridgedNetwork on a second host over SSH (test/helpers/sshd.ts: a real sshd in its
 * own namespace) against this host, A B A B, for BENCH_REMOTE_SIZES (default 10,50), and the cost of
 * one command both ways. Last, what IPv6 addresses cost a VethPair (ipv6Bench): `nodad` against IPv4
 * and against `dad: true`. Runs inside test/sandbox.sh (see run.sh).
 *
 * Knobs: BENCH_SIZES (default 10,50,200), BENCH_REPS (3), BENCH_REMOTE_SIZES (10,50; empty skips
 * the remote part), BENCH_ENGINE_DOUBLE=0 skips the engine double, BENCH_CLI=0 skips the real CLI,
 * BENCH_IPV6=0 skips the IPv6 part,
 * BENCH_OUT names another folder for the results (default results/), e.g. for a quick check:
 *
 *   BENCH_SIZES=10 BENCH_REPS=1 BENCH_REMOTE_SIZES= BENCH_OUT=/tmp/bench npm run bench
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import type { Connection } from "../../provider/core/schema";
import { targetOf, localTarget, type Target } from "../../provider/linux/target";
import { ownerToken } from "../../provider/core/owner";
import { vethPairProvider } from "../../provider/resources/veth";
import { Stack } from "./engine/stack";
import { haveSshd, startSshd, type Sshd } from "../helpers/sshd";
import { cliDir, Project } from "../e2e/cli";

const SIZES = (process.env.BENCH_SIZES ?? "10,50,200").split(",").map(Number);
const REMOTE_SIZES = (process.env.BENCH_REMOTE_SIZES ?? "10,50").split(",").filter(Boolean).map(Number);
const REPS = Number(process.env.BENCH_REPS ?? 3);
const ENGINE_DOUBLE = process.env.BENCH_ENGINE_DOUBLE !== "0";
const CLI = process.env.BENCH_CLI !== "0";
const IPV6 = process.env.BENCH_IPV6 !== "0";
const OUT = path.resolve(process.env.BENCH_OUT || path.join(__dirname, "results"));
const TRACE = "/run/pulumi-netns-bench.trace";

type Sample = Record<string, number[]>;

function sh(...argv: string[]): void {
    execFileSync(argv[0], argv.slice(1), { stdio: ["ignore", "ignore", "inherit"] });
}

function median(xs: number[]): number {
    const s = [...xs].sort((a, b) => a - b);
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The median of every series of a sample. */
function medians(s: Sample): Record<string, number> {
    return Object.fromEntries(Object.entries(s).map(([k, v]) => [k, median(v)]));
}

/** Commands the provider ran since the last call (PULUMI_NETNS_TRACE, one argv per line). */
function tracedCommands(): number {
    if (!fs.existsSync(TRACE)) return 0;
    const n = fs.readFileSync(TRACE, "utf8").split("\n").filter(Boolean).length;
    fs.rmSync(TRACE);
    return n;
}

/** CPU-seconds the whole machine has been busy since boot (/proc/stat: all but idle and iowait; USER_HZ is 100). */
function busyCpuSeconds(): number {
    const [, ...ticks] = fs.readFileSync("/proc/stat", "utf8").split("\n")[0].trim().split(/\s+/).map(Number);
    const [user, nice, system, , , irq, softirq, steal] = ticks;
    return (user + nice + system + irq + softirq + steal) / 100;
}

/** Times fn into sample[key], and the CPU-seconds the machine spent meanwhile (every process, the kernel's work included) into `${key} cpu-s`. */
async function timed(sample: Sample, key: string, fn: () => unknown): Promise<void> {
    const t0 = process.hrtime.bigint();
    const c0 = busyCpuSeconds();
    await fn();
    (sample[key] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e9);
    (sample[`${key} cpu-s`] ??= []).push(busyCpuSeconds() - c0);
}

/** The namespaces of `ip netns list` (here, or on the sshd's host), its own "remote" left out. */
async function namespaces(sshd?: Sshd): Promise<string[]> {
    const list = ["ip", "netns", "list"];
    return (sshd ? await sshd.exec(list) : execFileSync(list[0], list.slice(1), { encoding: "utf8" })).trim().split("\n").map((l) => l.split(" ")[0]).filter((l) => l && l !== "remote");
}

async function assertClean(sshd?: Sshd): Promise<void> {
    const left = await namespaces(sshd);
    if (left.length > 0) throw new Error(`namespaces left behind${sshd ? " on the remote host" : ""}: ${left}`);
}

async function packageRun(n: number, s: Sample, sshd?: Sshd): Promise<void> {
    const config = sshd ? { n, connection: JSON.stringify(sshd.connection) } : { n };
    const stack = new Stack({ program: "test/bench/program", config, stack: "bench", timeoutMs: 600000 });
    tracedCommands();
    let peak = 0;
    const track = (r: { hostPeakRssKb?: number }) => (peak = Math.max(peak, r.hostPeakRssKb ?? 0));
    // The same program with no provider at all (every registration answered at once): the Pulumi runtime's own cost.
    if (!sshd) await timed(s, "runtime only", () => stack.runtimeOnly());
    await timed(s, "up", async () => track(await stack.up()));
    const built = stack.checkpointState;
    const custom = Object.values(stack.state).filter((r) => r.custom).length; // 3 per namespace + 5
    (s["procs/resource: up"] ??= []).push(tracedCommands() / custom);
    await timed(s, "no-op up", async () => {
        const r = await stack.up();
        if (r.changes !== 0) throw new Error(`no-op up changed ${r.changes} resources`);
        track(r);
    });
    (s["procs: no-op up"] ??= []).push(tracedCommands());
    await timed(s, "preview", async () => track(await stack.preview()));
    (s["procs: preview"] ??= []).push(tracedCommands());
    await timed(s, "refresh", async () => {
        const r = await stack.refresh();
        if (r.changes !== 0) throw new Error(`refresh found drift in ${r.changes} resources`);
        track(r);
    });
    (s["procs/resource: refresh"] ??= []).push(tracedCommands() / custom);
    await timed(s, "destroy", async () => track(await stack.destroy()));
    (s["procs/resource: destroy"] ??= []).push(tracedCommands() / custom);
    if (!sshd) {
        // The provider's part alone: the same creates from the recorded inputs, on the engine's schedule, with no program.
        await timed(s, "provider alone", () => stack.replayUp(built));
        await stack.destroy();
        tracedCommands();
    }
    (s["host peak RSS MB"] ??= []).push(peak / 1024);
    await assertClean(sshd);
}

async function scriptRun(n: number, s: Sample): Promise<void> {
    const script = path.join(__dirname, "script.sh");
    await timed(s, "script create", () => sh("bash", script, "create", String(n), "up0"));
    await timed(s, "script delete", () => sh("bash", script, "delete", String(n), "up0"));
    await assertClean();
}

/**
 * The real CLI's five operations, in order, each with its flags: one operation each (`up`, `refresh`
 * and `destroy` with --skip-preview: a plain `up --yes` runs a preview first, i.e. costs about
 * `preview` more); the no-op up, the preview and the refresh must find no changes.
 */
const CLI_OPS: [op: string, args: string[]][] = [
    ["up", ["up", "--yes", "--skip-preview"]],
    ["no-op up", ["up", "--yes", "--skip-preview", "--expect-no-changes"]],
    ["preview", ["preview", "--expect-no-changes"]],
    ["refresh", ["refresh", "--yes", "--skip-preview", "--expect-no-changes"]],
    ["destroy", ["destroy", "--yes", "--skip-preview"]],
];

/**
 * The programs under the real CLI, by the label of their series: the package, the do-nothing floor, and the
 * same network through the provider plugin from YAML (on a bridge and namespaces of its own, p0…).
 */
const CLI_PROGRAMS: [label: string, program: string][] = [["cli", "test/bench/program"], ["cli floor", "test/bench/noop-program"], ["cli plugin", "test/bench/plugin-program"]];
/** How the tables name each series. */
const CLI_LABELS: Record<string, string> = { cli: "package (dynamic resources, TypeScript)", "cli floor": "do-nothing floor", "cli plugin": "provider plugin (YAML)" };

/** How the file backend keeps the state: by its default (the checkpoint written twice per step), or only at the end. */
const CHECKPOINTS: [suffix: string, env: NodeJS.ProcessEnv][] = [["", {}], [" skip-checkpoints", { PULUMI_SKIP_CHECKPOINTS: "true" }]];

/** The key of a series of the real CLI, e.g. "cli floor up skip-checkpoints". */
const cliKey = (label: string, op: string, suffix = "") => `${label} ${op}${suffix}`;

/**
 * The environment of every timed CLI run, besides cli.ts's own: the program transpiled only, as the
 * engine double runs it (a project's default is to type-check it first, which costs both programs alike).
 */
const CLI_ENV: NodeJS.ProcessEnv = { PULUMI_NODEJS_TRANSPILE_ONLY: "true" };

/** One project per program of CLI_PROGRAMS, its stack `bench` at n namespaces. */
async function cliProjects(n: number): Promise<[label: string, project: Project][]> {
    const { dir, why } = cliDir();
    if (!dir) throw new Error(`no Pulumi CLI (${why}); BENCH_CLI=0 skips this part`);
    const projects: [string, Project][] = [];
    for (const [label, program] of CLI_PROGRAMS) {
        const project = Project.create(program);
        projects.push([label, project]);
        await project.init("bench", { n: String(n), ...(label === "cli plugin" ? { names: Array.from({ length: n }, (_, i) => `p${i}`) } : {}) });
    }
    return projects;
}

/** The dynamic resources in a project's state (the default provider left out). */
async function dynamicResources(project: Project): Promise<number> {
    const { deployment } = await project.exportStack();
    return (deployment.resources ?? []).filter((r) => r.custom && !r.type.startsWith("pulumi:providers:")).length;
}

/** Bytes per resource of `pulumi stack export` (the stack and the default provider counted out). */
async function stateBytes(project: Project): Promise<number> {
    const resources = ((await project.exportStack()).deployment.resources ?? []).filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"));
    return JSON.stringify(resources).length / resources.length;
}

/**
 * The five operations through the real CLI, for each way of checkpointing: each operation on the
 * package, then at once on the floor, so that each difference is taken seconds apart. Checks that
 * the package's up made the n namespaces, that the floor declares as many resources, and that
 * destroy left nothing; counts the package's processes per resource (with checkpoints).
 */
async function cliRun(n: number, projects: [string, Project][], s: Sample): Promise<void> {
    for (const [suffix, env] of CHECKPOINTS) {
        tracedCommands();
        let resources = 0;
        for (const [op, args] of CLI_OPS) {
            let commands = 0; // the package's (the floor runs none; the plugin's are counted out)
            for (const [label, project] of projects) {
                await timed(s, cliKey(label, op, suffix), () => project.pulumi(args, { env: { ...CLI_ENV, ...env }, timeoutMs: 600000 }));
                if (label === "cli") commands = tracedCommands();
                else tracedCommands();
            }
            if (op === "up") {
                const made = await namespaces();
                for (const [label, prefix] of [["package", "b"], ["plugin", "p"]]) {
                    const count = made.filter((m) => m.startsWith(prefix)).length;
                    if (count !== n) throw new Error(`up of the ${label} through the CLI made ${count} namespaces, not ${n}`);
                }
                const [real, floor, plugin] = await Promise.all(projects.map(([, p]) => dynamicResources(p)));
                if (real !== floor || real !== plugin) throw new Error(`the package declares ${real} resources, the floor ${floor}, the plugin ${plugin}`);
                resources = real;
                if (suffix === "") for (const [label, project] of projects) (s[cliKey(label, "state bytes/resource:")] ??= []).push(await stateBytes(project));
            }
            if (suffix === "") (s[cliKey("cli procs/resource:", op)] ??= []).push(commands / resources);
        }
        await assertClean();
    }
}

/** Milliseconds per command (`ip -json link show`) through a target, 200 in a row and 200 eight at a time. */
async function commandCost(t: Target): Promise<{ serial: number; parallel: number }> {
    const argv = ["ip", "-json", "link", "show"];
    await t.run(argv); // connects, when remote
    const per = async (workers: number) => {
        const t0 = process.hrtime.bigint();
        let left = 200;
        await Promise.all(Array.from({ length: workers }, async () => { while (left-- > 0) await t.run(argv); }));
        return Number(process.hrtime.bigint() - t0) / 1e6 / 200;
    };
    return { serial: await per(1), parallel: await per(8) };
}

/** The package on a second host over SSH against this host (A B A B), and the cost of one command both ways. */
async function remoteBench(): Promise<RemoteResults | undefined> {
    if (REMOTE_SIZES.length === 0) return undefined;
    if (!haveSshd()) {
        console.error("SKIPPING the remote benchmark: openssh-server is not installed (npm test installs it as root with apt-get)");
        return undefined;
    }
    const sshd = await startSshd();
    try {
        await sshd.exec(["ip", "link", "add", "name", "up0", "type", "veth", "peer", "name", "up1"]); // the uplink to masquerade out of
        const perCommand = { local: await commandCost(localTarget), remote: await commandCost(targetOf({ connection: sshd.connection as Connection })) };
        const sizes: Record<number, Record<string, number>> = {};
        for (const n of REMOTE_SIZES) {
            const local: Sample = {}, remote: Sample = {};
            for (let i = 0; i < REPS; i++) {
                await packageRun(n, local);
                await packageRun(n, remote, sshd);
                process.stderr.write(`remote N=${n} rep ${i + 1}/${REPS} done\n`);
            }
            sizes[n] = Object.fromEntries(["up", "refresh", "destroy"].flatMap((k) => [[`local ${k}`, median(local[k])], [`remote ${k}`, median(remote[k])]]));
        }
        return { perCommand, sizes };
    } finally {
        await sshd.stop();
    }
}

interface RemoteResults {
    /** Milliseconds per command, one at a time and eight at a time. */
    perCommand: Record<"local" | "remote", { serial: number; parallel: number }>;
    /** N → medians of up, refresh and destroy, local and remote. */
    sizes: Record<number, Record<string, number>>;
}

/** Links per round of the IPv6 part. */
const IPV6_LINKS = 20;

/**
 * What IPv6 costs a VethPair, through its provider in this process (no engine): IPV6_LINKS pairs
 * between two namespaces, created one after the other, with IPv4 addresses, with IPv6 addresses
 * (`nodad`, the default) and with `dad: true` (create waits for duplicate address detection), A B C
 * per round; then, for each, the time from create returning to the first echo reply (`ping -c1 -W3`
 * from one end to the other, `ip netns exec` included). Milliseconds; medians over REPS rounds.
 */
async function ipv6Bench(): Promise<Sample | undefined> {
    if (!IPV6) return undefined;
    const s: Sample = {};
    const variants: [label: string, address: (end: 1 | 2, i: number) => string, dad: boolean][] = [
        ["ipv4", (e, i) => `10.${100 + Math.floor(i / 100)}.${i % 100}.${e}/24`, false],
        ["ipv6 nodad", (e, i) => `fd00:b6:${i}::${e}/64`, false],
        ["ipv6 dad", (e, i) => `fd00:b7:${i}::${e}/64`, true],
    ];
    sh("ip", "netns", "add", "b6a");
    sh("ip", "netns", "add", "b6b");
    try {
        for (let rep = 0; rep < REPS; rep++) {
            for (const [label, address, dad] of variants) {
                const made = [];
                const t0 = process.hrtime.bigint();
                for (let i = 0; i < IPV6_LINKS; i++) {
                    const owner = ownerToken("bench", "bench", "VethPair", `${label}-${i}`);
                    const inputs = (await vethPairProvider.check!({}, { name: `b6x${i}`, netns: "b6a", addresses: [address(1, i)], peerName: `b6y${i}`, peerNetns: "b6b", peerAddresses: [address(2, i)], dad, owner })).inputs;
                    made.push(await vethPairProvider.create(inputs));
                }
                (s[`${label} create ms per link`] ??= []).push(Number(process.hrtime.bigint() - t0) / 1e6 / IPV6_LINKS);
                // First answer after a fresh create: one more pair, then ping at once.
                const owner = ownerToken("bench", "bench", "VethPair", `${label}-ping`);
                const inputs = (await vethPairProvider.check!({}, { name: "b6p", netns: "b6a", addresses: [address(1, 999)], peerName: "b6q", peerNetns: "b6b", peerAddresses: [address(2, 999)], dad, owner })).inputs;
                made.push(await vethPairProvider.create(inputs));
                const t1 = process.hrtime.bigint();
                sh("ip", "netns", "exec", "b6a", "ping", "-n", "-q", "-c1", "-W3", address(2, 999).split("/")[0]);
                (s[`${label} first reply ms`] ??= []).push(Number(process.hrtime.bigint() - t1) / 1e6);
                for (const m of made) await vethPairProvider.delete!(m.id, m.outs);
            }
            process.stderr.write(`ipv6 rep ${rep + 1}/${REPS} done\n`);
        }
    } finally {
        sh("ip", "netns", "del", "b6a");
        sh("ip", "netns", "del", "b6b");
    }
    return s;
}

async function main(): Promise<void> {
    process.env.PULUMI_NETNS_TRACE = TRACE;
    sh("ip", "link", "add", "name", "up0", "type", "veth", "peer", "name", "up1");
    sh("ip", "link", "set", "dev", "up0", "up");
    // The engine double's own cost (child process, TypeScript, the Pulumi runtime, the host), measured on an empty LAN.
    const overhead: Sample = {};
    if (ENGINE_DOUBLE) for (let i = 0; i < REPS; i++) await packageRun(0, overhead);
    const results: Record<number, Record<string, number>> = {};
    for (const n of SIZES) {
        const s: Sample = {};
        const projects = CLI ? await cliProjects(n) : [];
        try {
            for (let i = 0; i < REPS; i++) {
                if (ENGINE_DOUBLE) await packageRun(n, s); // A
                await scriptRun(n, s); // B
                if (CLI) await cliRun(n, projects, s); // A through the real CLI
                process.stderr.write(`N=${n} rep ${i + 1}/${REPS} done\n`);
            }
        } finally {
            for (const [, project] of projects) project.remove();
        }
        results[n] = medians(s);
    }
    const remote = await remoteBench();
    report(results, ENGINE_DOUBLE ? medians(overhead) : undefined, remote, await ipv6Bench());
}

const f = (x: number) => x.toFixed(2);

/** Prints the tables and writes them, the medians (results.json) and the chart into OUT. */
function report(results: Record<number, Record<string, number>>, fixed: Record<string, number> | undefined, remote: RemoteResults | undefined, ipv6: Sample | undefined): void {
    const script = mdTable(["N", "script create", "script delete"], Object.entries(results).map(([n, r]) => [n, `${f(r["script create"])} s`, `${f(r["script delete"])} s`]));
    const parts = [fixed ? doubleTables(results, fixed) : [], CLI ? cliTables(results) : [], fixed || CLI ? [] : script, remote ? remoteTable(remote) : [], ipv6 ? ipv6Table(ipv6) : []];
    const table = parts.filter((p) => p.length > 0).map((p) => p.join("\n")).join("\n\n");
    console.log(table);
    fs.mkdirSync(OUT, { recursive: true });
    fs.writeFileSync(path.join(OUT, "results.json"), JSON.stringify({ sizes: SIZES, reps: REPS, medians: results, fixed, remote, ipv6 }, null, 1) + "\n");
    fs.writeFileSync(path.join(OUT, "results.md"), table + "\n");
    fs.writeFileSync(path.join(OUT, "results.svg"), chart(results));
}

/** The engine double against the script: the five operations, their ratios, processes and memory, the fixed cost. */
function doubleTables(results: Record<number, Record<string, number>>, fixed: Record<string, number>): string[] {
    const lines = [
        `| N | up | no-op up | preview | refresh | destroy | script create | script delete |`,
        `|---|---|---|---|---|---|---|---|`,
    ];
    for (const [n, r] of Object.entries(results)) {
        lines.push(`| ${n} | ${f(r.up)} s | ${f(r["no-op up"])} s | ${f(r.preview)} s | ${f(r.refresh)} s | ${f(r.destroy)} s | ${f(r["script create"])} s | ${f(r["script delete"])} s |`);
    }
    const x = (a: number, b: number) => `${f(a)} s = ${f(a / b)}×`;
    lines.push("", `| N | up / create | no-op up / create | preview / create | refresh / create | destroy / delete | Pulumi runtime alone (no provider) / create | provider alone (no program) / create |`,
        `|---|---|---|---|---|---|---|---|`);
    for (const [n, r] of Object.entries(results)) {
        const c = r["script create"];
        lines.push(`| ${n} | ${f(r.up / c)}× | ${f(r["no-op up"] / c)}× | ${f(r.preview / c)}× | ${f(r.refresh / c)}× | ${f(r.destroy / r["script delete"])}× | ` +
            `${x(r["runtime only"], c)} | ${x(r["provider alone"], c)} |`);
    }
    lines.push("", `| N | processes per resource: up | refresh | destroy | processes: preview | no-op up | host peak RSS |`, `|---|---|---|---|---|---|---|`);
    for (const [n, r] of Object.entries(results)) {
        lines.push(`| ${n} | ${f(r["procs/resource: up"])} | ${f(r["procs/resource: refresh"])} | ${f(r["procs/resource: destroy"])} | ${r["procs: preview"]} | ${r["procs: no-op up"]} | ${f(r["host peak RSS MB"])} MB |`);
    }
    const cpu = (r: Record<string, number>, k: string) => `${f(r[`${k} cpu-s`])} CPU-s (${f(r[`${k} cpu-s`] / r[k])} cores)`;
    lines.push("", `| N | CPU, machine-wide: provider alone | script create | destroy | script delete |`, `|---|---|---|---|---|`);
    for (const [n, r] of Object.entries(results)) {
        lines.push(`| ${n} | ${cpu(r, "provider alone")} | ${cpu(r, "script create")} | ${cpu(r, "destroy")} | ${cpu(r, "script delete")} |`);
    }
    lines.push("", `Fixed cost of the engine double (an empty LAN): up ${f(fixed.up)} s, no-op up ${f(fixed["no-op up"])} s, preview ${f(fixed.preview)} s, refresh ${f(fixed.refresh)} s, destroy ${f(fixed.destroy)} s; the runtime alone ${f(fixed["runtime only"])} s, the provider alone ${f(fixed["provider alone"])} s.`);
    return lines;
}

/** A markdown table: a header row, its rule, the rows. */
const mdTable = (head: string[], rows: string[][]) => [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)];

/**
 * The real CLI: each operation of the package and of the floor, with and without checkpoints (and
 * up, destroy against the script); the provider's own share, the package minus the floor, against
 * the script; the package's processes per resource.
 */
function cliTables(results: Record<number, Record<string, number>>): string[] {
    const ops = CLI_OPS.map(([op]) => op);
    const sec = (x: number) => `${f(x)} s`;
    const checkpoints = (suffix: string) => (suffix ? "skipped" : "per step");
    const runs = mdTable(["N", "program", "checkpoints", ...ops, "up ÷ script create", "destroy ÷ script delete"],
        Object.entries(results).flatMap(([n, r]) => CHECKPOINTS.flatMap(([suffix]) => CLI_PROGRAMS.map(([label]) => {
            const v = (op: string) => r[cliKey(label, op, suffix)];
            return [n, CLI_LABELS[label], checkpoints(suffix), ...ops.map((op) => sec(v(op))),
                `${f(v("up") / r["script create"])}×`, `${f(v("destroy") / r["script delete"])}×`];
        }))));
    const share = mdTable(["N", "checkpoints", ...ops.map((op) => `${op} − floor`), "script create", "(up − floor) ÷ create", "script delete", "(destroy − floor) ÷ delete"],
        Object.entries(results).flatMap(([n, r]) => CHECKPOINTS.map(([suffix]) => {
            const own = (op: string) => r[cliKey("cli", op, suffix)] - r[cliKey("cli floor", op, suffix)];
            return [n, checkpoints(suffix), ...ops.map((op) => sec(own(op))),
                sec(r["script create"]), `${f(own("up") / r["script create"])}×`, sec(r["script delete"]), `${f(own("destroy") / r["script delete"])}×`];
        })));
    const state = mdTable(["N", ...CLI_PROGRAMS.map(([label]) => `bytes per resource in \`stack export\`: ${CLI_LABELS[label]}`)],
        Object.entries(results).map(([n, r]) => [n, ...CLI_PROGRAMS.map(([label]) => String(Math.round(r[cliKey(label, "state bytes/resource:")])))]));
    const procs = mdTable(["N", ...ops.map((op, i) => (i ? op : `processes per resource through the CLI: ${op}`))],
        Object.entries(results).map(([n, r]) => [n, ...ops.map((op) => f(r[cliKey("cli procs/resource:", op)]))]));
    return [
        "The real Pulumi CLI (up, refresh and destroy with --skip-preview; the do-nothing floor: the same resource graph, a provider that does nothing):",
        "", ...runs,
        "", "The provider's own share (the package minus the floor):", "", ...share,
        "", ...state,
        "", ...procs,
    ];
}

/** This host against a second one over SSH: one command, and up, refresh, destroy. */
/** The IPv6 part: create cost per link and the first answer after create, IPv4 / IPv6 nodad / IPv6 with DAD (median, and the range of the rounds). */
function ipv6Table(s: Sample): string[] {
    const cell = (xs: number[], digits: number) => `${median(xs).toFixed(digits)} ms (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`;
    const label = { ipv4: "IPv4", "ipv6 nodad": "IPv6 (nodad, the default)", "ipv6 dad": "IPv6, dad: true" };
    const rows = Object.entries(label).map(([v, name]) => [name, cell(s[`${v} create ms per link`], 1), cell(s[`${v} first reply ms`], 0)]);
    return [`VethPair create, ${IPV6_LINKS} pairs one after the other (median of ${REPS} rounds, range in brackets):`, "", ...mdTable(["addresses", "create, per link", "first echo reply after create"], rows)];
}

function remoteTable(remote: RemoteResults): string[] {
    const { local: l, remote: r } = remote.perCommand;
    const lines = [`| over SSH (a second host) | local | remote | remote / local |`, `|---|---|---|---|`,
        `| one command, one at a time | ${f(l.serial)} ms | ${f(r.serial)} ms | ${f(r.serial / l.serial)}× |`,
        `| one command, eight at a time | ${f(l.parallel)} ms | ${f(r.parallel)} ms | ${f(r.parallel / l.parallel)}× |`];
    for (const [n, m] of Object.entries(remote.sizes)) {
        for (const k of ["up", "refresh", "destroy"]) {
            lines.push(`| ${k}, N=${n} | ${f(m[`local ${k}`])} s | ${f(m[`remote ${k}`])} s | ${f(m[`remote ${k}`] / m[`local ${k}`])}× |`);
        }
    }
    return lines;
}

/**
 * Milliseconds per namespace for up/create and destroy/delete: the package through the engine double
 * and through the real CLI, the script; one group per N, only the series this run measured.
 */
function chart(results: Record<number, Record<string, number>>): string {
    const ns = Object.keys(results).map(Number);
    const series = ([
        ["up", "package up", "#3b6ea8"], ["cli up", "package up, real CLI", "#1f3f66"], ["script create", "script create", "#a0b9d6"],
        ["destroy", "package destroy", "#b5542c"], ["cli destroy", "package destroy, real CLI", "#6e2f16"], ["script delete", "script delete", "#e2b09a"],
    ] as [string, string, string][]).filter(([k]) => ns.every((n) => results[n][k] !== undefined));
    const perNs = (n: number, k: string) => (results[n][k] / n) * 1000;
    const max = Math.max(...ns.flatMap((n) => series.map(([k]) => perNs(n, k))));
    const perRow = 3, legendW = 190, legendRows = Math.ceil(series.length / perRow);
    const W = 640, H = 280 + 16 * legendRows, left = 50, bottom = 40, top = 30 + 16 * legendRows;
    const groupW = (W - left - 20) / ns.length, barW = groupW / (series.length + 2);
    const y = (v: number) => H - bottom - (v / max) * (H - bottom - top);
    let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`;
    svg += `<text x="${left}" y="16" font-size="13">Milliseconds per namespace (median), lower is better</text>`;
    series.forEach(([, label, color], i) => {
        const lx = left + (i % perRow) * legendW, ly = 24 + 16 * Math.floor(i / perRow);
        svg += `<rect x="${lx}" y="${ly}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${ly + 9}">${label}</text>`;
    });
    svg += `<line x1="${left}" y1="${H - bottom}" x2="${W - 10}" y2="${H - bottom}" stroke="#333"/>`;
    ns.forEach((n, g) => {
        series.forEach(([k, , color], i) => {
            const v = perNs(n, k), x = left + g * groupW + barW * (i + 1);
            svg += `<rect x="${x}" y="${y(v)}" width="${barW - 4}" height="${H - bottom - y(v)}" fill="${color}"/>`;
            svg += `<text x="${x + (barW - 4) / 2}" y="${y(v) - 3}" text-anchor="middle">${v.toFixed(0)}</text>`;
        });
        svg += `<text x="${left + g * groupW + groupW / 2}" y="${H - bottom + 16}" text-anchor="middle">N = ${n}</text>`;
    });
    return svg + "</svg>\n";
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
