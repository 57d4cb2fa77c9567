/**
 * Engine double, parent API: a stack whose `up`/`preview` run the program in a child process
 * (child.ts; the Pulumi runtime is process-global) and whose `refresh`/`destroy` drive the
 * dynamic-provider host directly. State lives in memory, like a stack's checkpoint.
 *
 *   const stack = new Stack({ program: "examples/blue-bridge", config: { outInterface: "up0" } });
 *   await stack.up(); await stack.preview(); await stack.refresh(); await stack.destroy();
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT, startHost, type Host, type Props } from "../../helpers/host";
import { destroy, emptyState, refresh, replayCreates, type ResourceState, type StackState, type Step } from "./engine";
import type { ChildRequest, ChildResult } from "./child";
import { projectName } from "../../e2e/cli";

export type { ResourceState, StackState, Step } from "./engine";

export interface StackOptions {
    /** Program directory (Pulumi.yaml + index.ts), absolute or relative to the repo root. */
    program: string;
    /** Config: "project:key" or bare "key" (= this project's); non-strings are JSON-encoded. */
    config?: Record<string, unknown>;
    /** Stack name (part of every owner token). Default "dev". */
    stack?: string;
    /** Kill a child operation after this long (default 120 s). */
    timeoutMs?: number;
}

export interface OpResult {
    steps: Step[];
    /** Steps that are not "same" / "refresh". */
    changes: number;
    /** Stack outputs (up/preview; unknown values are the unknown sentinel in a preview). */
    outputs: Props;
    /** Peak resident memory of the dynamic-provider host during the operation (kB). */
    hostPeakRssKb?: number;
}

/** An operation failed; the state keeps what was done before the failure. */
export class EngineError extends Error {
    constructor(message: string, readonly steps: Step[]) {
        super(message);
    }
}

const CHILD = path.join(__dirname, "child.ts");

/** The `name:` of a Pulumi.yaml. */
const summarize = (steps: Step[], outputs: Props = {}): OpResult =>
    ({ steps, outputs, changes: steps.filter((s) => s.op !== "same" && s.op !== "refresh").length });

export class Stack {
    readonly programDir: string;
    readonly project: string;
    readonly name: string;
    /** Mutable between operations (program changes driven by config). */
    config: Record<string, unknown>;
    private checkpoint: StackState = emptyState();
    private readonly timeoutMs: number;

    constructor(opts: StackOptions) {
        this.programDir = path.resolve(REPO_ROOT, opts.program);
        this.project = projectName(this.programDir);
        this.name = opts.stack ?? "dev";
        this.config = { ...(opts.config ?? {}) };
        this.timeoutMs = opts.timeoutMs ?? 120000;
    }

    /** URN → resource (components included). */
    get state(): Record<string, ResourceState> {
        return this.checkpoint.resources;
    }

    /** The full checkpoint (also pending deletes and stack outputs). */
    get checkpointState(): StackState {
        return this.checkpoint;
    }

    /** Stack outputs of the last successful `up`. */
    get outputs(): Props {
        return this.checkpoint.outputs;
    }

    /** The URN of a resource by its name (and optionally type suffix, e.g. "VethPair"). */
    urnOf(name: string, type?: string): string {
        const hits = Object.values(this.state).filter((r) => r.name === name && (!type || r.type.endsWith(type)));
        if (hits.length !== 1) throw new Error(`${hits.length} resources named ${name}`);
        return hits[0].urn;
    }

    up(): Promise<OpResult> {
        return this.runProgram(false);
    }

    /** Check + Diff only; the state is not changed. */
    preview(): Promise<OpResult> {
        return this.runProgram(true);
    }

    /**
     * An `up` with no provider: every registration is answered at once and nothing runs. What the
     * Pulumi runtime (and this double) cost by themselves, for the benchmark; the state is not changed.
     */
    async runtimeOnly(): Promise<OpResult> {
        const state = this.checkpoint;
        try {
            return await this.runProgram(false, true);
        } finally {
            this.checkpoint = state;
        }
    }

    async refresh(): Promise<OpResult> {
        return this.withHost(async (host) => {
            const r = await refresh(host, this.checkpoint);
            this.checkpoint = r.state;
            return summarize(r.steps);
        });
    }

    async destroy(): Promise<OpResult> {
        return this.withHost(async (host) => {
            const r = await destroy(host, this.checkpoint);
            this.checkpoint = r.state;
            if (r.error) throw new EngineError(r.error.message, r.steps);
            return summarize(r.steps);
        });
    }

    /**
     * The provider's part of an `up` from nothing, without the program or the Pulumi runtime: creates
     * every resource of `built` (the checkpoint of an earlier `up`, destroyed since) from its
     * recorded inputs on the engine's schedule (see replayCreates). For the benchmark.
     */
    async replayUp(built: StackState): Promise<OpResult> {
        return this.withHost(async (host) => {
            const r = await replayCreates(host, built);
            this.checkpoint = r.state; // what was made, so that a destroy removes it even after a failure
            if (r.error) throw new EngineError(r.error.message, []);
            return summarize([]);
        });
    }

    private async withHost(fn: (host: Host) => Promise<OpResult>): Promise<OpResult> {
        const host = await startHost();
        try {
            return { ...(await fn(host)), hostPeakRssKb: host.peakRssKb() };
        } finally {
            await host.stop();
        }
    }

    private configFor(): Record<string, string> {
        return Object.fromEntries(Object.entries(this.config).map(([k, v]) =>
            [k.includes(":") ? k : `${this.project}:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
    }

    private async runProgram(preview: boolean, runtimeOnly = false): Promise<OpResult> {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "engine-double-"));
        try {
            const reqFile = path.join(dir, "request.json");
            const resFile = path.join(dir, "result.json");
            const req: ChildRequest = {
                programDir: this.programDir, project: this.project, stack: this.name,
                config: this.configFor(), preview, state: this.checkpoint, runtimeOnly,
            };
            fs.writeFileSync(reqFile, JSON.stringify(req));
            const log = await this.spawnChild(reqFile, resFile);
            if (!fs.existsSync(resFile)) throw new Error(`engine child failed without a result:\n${log}`);
            const res = JSON.parse(fs.readFileSync(resFile, "utf8")) as ChildResult;
            this.checkpoint = res.state;
            if (res.error !== undefined) throw new EngineError(res.error, res.steps);
            return { ...summarize(res.steps, res.outputs), hostPeakRssKb: res.hostPeakRssKb };
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }

    /** Runs child.ts with the TS_NODE settings of test/run.sh; resolves its stdout+stderr. */
    private spawnChild(reqFile: string, resFile: string): Promise<string> {
        const child = spawn(process.execPath, ["-r", require.resolve("ts-node/register"), CHILD, reqFile, resFile], {
            cwd: this.programDir,
            detached: true, // own process group: a timeout kills the child and its provider host
            stdio: ["ignore", "pipe", "pipe"],
            env: {
                ...process.env,
                TS_NODE_TRANSPILE_ONLY: "1",
                TS_NODE_PROJECT: path.join(REPO_ROOT, "tsconfig.json"),
                TS_NODE_COMPILER_OPTIONS: JSON.stringify({ module: "commonjs", moduleResolution: "node" }),
            },
        });
        let log = "";
        child.stdout!.setEncoding("utf8").on("data", (d: string) => (log += d));
        child.stderr!.setEncoding("utf8").on("data", (d: string) => (log += d));
        return new Promise((resolve) => {
            const timer = setTimeout(() => { log += `\n[killed after ${this.timeoutMs} ms]`; process.kill(-child.pid!, "SIGKILL"); }, this.timeoutMs);
            child.on("close", () => { clearTimeout(timer); resolve(log); });
        });
    }
}
