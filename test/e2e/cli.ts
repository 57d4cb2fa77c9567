/**
 * The real Pulumi CLI for the e2e suite: the pinned build of tools/pulumi-cli (built or reused by
 * its build.sh; PULUMI_NETNS_CLI names another directory holding `pulumi` and its two plugins).
 *
 * A `Project` is a Pulumi project as a user has it: a directory of its own (in a temporary
 * folder) holding the program's files, and a node_modules where `pulumi-netns` is an installed
 * copy of the package (package.json + dist/provider), the other packages links to the checkout's.
 * Each project has its own file backend and PULUMI_HOME; the CLI runs offline, non-interactive.
 *
 *   const p = Project.create("examples/blue-bridge");
 *   await p.pulumi(["up", "--yes"]);  await p.pulumi(["destroy", "--yes"]);  p.remove();
 */
import { strict as assert } from "assert";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { exampleSnapshot } from "../helpers/examples";
import { REPO_ROOT } from "../helpers/host";

/** A project's name, from its Pulumi.yaml. */
export function projectName(programDir: string): string {
    const m = /^name:\s*["']?([^"'\s#]+)/m.exec(fs.readFileSync(path.join(programDir, "Pulumi.yaml"), "utf8"));
    if (!m) throw new Error(`no name in ${programDir}/Pulumi.yaml`);
    return m[1];
}

let located: { dir?: string; why?: string } | undefined;

/** The directory of the pinned CLI, building it on first use; undefined (and why) when it cannot be had. */
export function cliDir(): { dir?: string; why?: string } {
    if (located) return located;
    if (process.env.PULUMI_NETNS_CLI) return (located = { dir: process.env.PULUMI_NETNS_CLI });
    try {
        const out = execFileSync("bash", [path.join(REPO_ROOT, "tools/pulumi-cli/build.sh")], {
            encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], timeout: 60 * 60 * 1000,
        });
        located = { dir: out.trim().split("\n").pop() };
    } catch (e) {
        located = { why: `tools/pulumi-cli/build.sh failed: ${(e as Error).message.split("\n")[0]}` };
    }
    return located;
}

/**
 * For a suite's `before`: skips the suite, saying why, when the CLI cannot be had (no Go, a
 * failed build); under CI=true that is a failure (test/run.sh builds it before the sandbox).
 */
export function requireCli(ctx: Mocha.Context): void {
    ctx.timeout(60 * 60 * 1000);
    const { dir, why } = cliDir();
    if (dir) return;
    if (process.env.CI === "true") throw new Error(`the Pulumi CLI is needed under CI=true and cannot be had: ${why}`);
    console.warn(`SKIPPING the e2e suite: no Pulumi CLI (${why})`);
    ctx.skip();
}

/** One CLI run: exit code and output. */
export interface Run {
    code: number;
    stdout: string;
    stderr: string;
}

export interface RunOptions {
    /** Exit codes taken as success (default [0]); others throw with the output. */
    codes?: number[];
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
    /** Called with all stdout so far and the child's pid (its process group) on each chunk, e.g. to kill it half-way. */
    onOutput?: (stdout: string, pid: number) => void;
}

/** The exit code of `--expect-no-changes` when there are changes (pkg/cmd/pulumi/cmd/exit_codes.go, ExitNoChanges). */
export const EXIT_CHANGES = 7;

/** A step of `pulumi preview --json`. */
export interface PreviewStep {
    op: string;
    urn: string;
    /** Properties whose change forces a replacement (op "replace"). */
    replaceReasons?: string[];
    detailedDiff?: Record<string, { kind: string }> | null;
    /** `pendingReplacement` marks a delete-before-replace: the old one goes first. */
    oldState?: { outputs?: Record<string, unknown>; inputs?: Record<string, unknown>; pendingReplacement?: boolean };
    newState?: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> };
}

export interface PreviewJson {
    steps: PreviewStep[];
    changeSummary?: Record<string, number>;
    diagnostics?: { message: string; severity: string }[];
}

/** The resource name of a URN (its last `::` part). */
export const nameOf = (urn: string) => urn.split("::").pop() ?? urn;

/** "op name" of every step that is not "same", sorted; the stack itself left out. */
export function changes(p: PreviewJson): string[] {
    return p.steps.filter((s) => s.op !== "same" && !s.urn.includes("::pulumi:pulumi:Stack::"))
        .map((s) => `${s.op} ${nameOf(s.urn)}`).sort();
}

/** The files of the package as `npm install pulumi-netns` lays them out (the `files` of package.json). */
export function installPackage(nodeModules: string): void {
    const dest = path.join(nodeModules, "pulumi-netns");
    fs.mkdirSync(dest, { recursive: true });
    fs.copyFileSync(path.join(REPO_ROOT, "package.json"), path.join(dest, "package.json"));
    const files: string[] = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8")).files;
    for (const f of files.filter((f) => f !== "docs")) fs.cpSync(path.join(REPO_ROOT, f), path.join(dest, f), { recursive: true });
}

export class Project {
    /** The project directory (Pulumi.yaml, program, node_modules). */
    readonly dir: string;

    /** The project's name (Pulumi.yaml). */
    readonly name: string;

    private constructor(readonly root: string, dir: string, readonly backend: string, readonly home: string) {
        this.dir = dir;
        this.name = projectName(dir);
    }

    /**
     * A new project from the program in `program` (a directory with Pulumi.yaml, relative to the
     * repository or absolute): its files copied, the package installed, a fresh backend and home.
     */
    static create(program: string, opts: { backend?: string } = {}): Project {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-e2e-"));
        const dir = path.join(root, "project");
        fs.cpSync(path.resolve(REPO_ROOT, program), dir, { recursive: true });
        // A user's project has a package.json (without one the runtime warns and uses the directory).
        const pkg = path.join(dir, "package.json");
        if (!fs.existsSync(pkg)) fs.writeFileSync(pkg, JSON.stringify({ name: path.basename(program), private: true }, null, 2) + "\n");
        const modules = path.join(dir, "node_modules");
        fs.mkdirSync(modules);
        for (const entry of fs.readdirSync(path.join(REPO_ROOT, "node_modules"))) {
            if (entry !== "pulumi-netns" && entry !== ".bin" && !entry.startsWith(".")) {
                fs.symlinkSync(path.join(REPO_ROOT, "node_modules", entry), path.join(modules, entry));
            }
        }
        installPackage(modules);
        const backend = opts.backend ?? path.join(root, "backend");
        fs.mkdirSync(backend, { recursive: true });
        fs.mkdirSync(path.join(root, "home"));
        return new Project(root, dir, backend, path.join(root, "home"));
    }

    /**
     * Another checkout of this project at another path (a CI runner's clone): the same files,
     * including the stack's settings file, its own installed package and PULUMI_HOME, the same backend.
     */
    clone(): Project {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-e2e-clone-"));
        const dir = path.join(root, "project");
        fs.cpSync(this.dir, dir, {
            recursive: true, verbatimSymlinks: true,
            filter: (src) => !src.startsWith(path.join(this.dir, "node_modules", "pulumi-netns")),
        });
        installPackage(path.join(dir, "node_modules"));
        fs.mkdirSync(path.join(root, "home"));
        return new Project(root, dir, this.backend, path.join(root, "home"));
    }

    /** Variables every CLI run of this project gets (e.g. a Python program's PYTHONPATH). */
    readonly environment: NodeJS.ProcessEnv = {};

    /** The environment of every CLI run: offline, non-interactive, this project's backend and home. */
    env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
        const bin = cliDir().dir!;
        return {
            ...process.env,
            PATH: `${bin}:${process.env.PATH}`,
            PULUMI_HOME: this.home,
            PULUMI_BACKEND_URL: `file://${this.backend}`,
            PULUMI_CONFIG_PASSPHRASE: "",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_SKIP_CONFIRMATIONS: "true",
            NO_COLOR: "1",
            ...this.environment,
            ...extra,
        };
    }

    /** Runs `pulumi ARGS` in the project directory; rejects on an exit code not in `opts.codes`. */
    pulumi(args: string[], opts: RunOptions = {}): Promise<Run> {
        return this.run([path.join(cliDir().dir!, "pulumi"), ...args, "--non-interactive"], opts);
    }

    /** Runs argv in the project directory with env(), in a process group of its own (killed whole on timeout). */
    run(argv: string[], opts: RunOptions = {}): Promise<Run> {
        const child = spawn(argv[0], argv.slice(1), {
            cwd: this.dir, env: this.env(opts.env), stdio: ["ignore", "pipe", "pipe"], detached: true,
        });
        let stdout = "";
        let stderr = "";
        child.stdout.setEncoding("utf8").on("data", (d: string) => { stdout += d; opts.onOutput?.(stdout, child.pid!); });
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
        return new Promise((resolve, reject) => {
            const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), opts.timeoutMs ?? 300000);
            child.on("close", (code, signal) => {
                clearTimeout(timer);
                const run = { code: code ?? 128 + (os.constants.signals[signal!] ?? 0), stdout, stderr };
                if ((opts.codes ?? [0]).includes(run.code)) resolve(run);
                else reject(new Error(`${argv.join(" ")} exited with ${code ?? signal}:\n${stdout}\n${stderr}`));
            });
        });
    }

    /** Sets config values of the current stack (keys without a namespace are this project's; objects as JSON). */
    async setConfig(values: Record<string, unknown>): Promise<void> {
        if (Object.keys(values).length === 0) return;
        const all = Object.fromEntries(Object.entries(values).map(([k, v]) => [k.includes(":") ? k : `${this.name}:${k}`,
            typeof v === "string" ? { value: v, secret: false } : { value: JSON.stringify(v), objectValue: v, secret: false }]));
        await this.pulumi(["config", "set-all", "--json", JSON.stringify(all)]);
    }

    /** `pulumi stack select --create STACK`, then `setConfig(config)`. */
    async init(stack = "dev", config: Record<string, unknown> = {}): Promise<void> {
        await this.pulumi(["stack", "select", "--create", stack]);
        await this.setConfig(config);
    }

    /** `pulumi preview --json` (extra flags appended), parsed. */
    async preview(flags: string[] = [], opts: RunOptions = {}): Promise<PreviewJson & { code: number }> {
        const r = await this.pulumi(["preview", "--json", ...flags], opts);
        return { ...(JSON.parse(r.stdout) as PreviewJson), code: r.code };
    }

    /** `pulumi stack export` of the current stack, parsed. */
    async exportStack(): Promise<{ deployment: { resources?: StateResource[]; pending_operations?: unknown[] } }> {
        return JSON.parse((await this.pulumi(["stack", "export"])).stdout);
    }

    /** `pulumi stack output --json`. */
    async outputs(): Promise<Record<string, unknown>> {
        return JSON.parse((await this.pulumi(["stack", "output", "--json"])).stdout);
    }

    /** Deletes the project's folder (and its backend, unless that was given). */
    remove(): void {
        fs.rmSync(this.root, { recursive: true, force: true });
    }
}

/**
 * For a describe: a Project of `program` with stack `dev` (and `config`) made in `before`, the
 * sandbox root snapshotted first; in `after`, destroyed, removed, and the host compared with that
 * snapshot. Call inside the describe; `project` is usable from its tests on.
 */
export function withProject(program: string, config: Record<string, unknown> = {}): { readonly project: Project } {
    let project: Project | undefined;
    let hostBefore = "";
    before(async function () {
        requireCli(this);
        hostBefore = await exampleSnapshot();
        project = Project.create(program);
        await project.init("dev", config);
    });
    after(async () => {
        if (!project) return;
        await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
        project.remove();
        assert.equal(await exampleSnapshot(), hostBefore, `${program}: destroy left the host changed`);
    });
    return {
        get project(): Project {
            if (!project) throw new Error("withProject: project used before its before hook");
            return project;
        },
    };
}

/** One resource of `pulumi stack export`. */
export interface StateResource {
    urn: string;
    type: string;
    id?: string;
    custom?: boolean;
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
    dependencies?: string[];
    deletedWith?: string;
    parent?: string;
}
