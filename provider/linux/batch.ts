/**
 * `ip -batch`, shared: operations that run at the same time on one target (this host, one sudo, one
 * ssh connection) share one `ip -batch -` process instead of starting one each. Starting a process
 * costs the provider host ~8 ms, 5 of them blocking its only thread, whatever the parallelism;
 * `ip` running a line costs far less (a `netns exec` line is a fork inside `ip`, off that thread).
 *
 * The rules that keep one operation's lines from ever touching another's:
 * - no `-force`: `ip` stops at the first failing line and names it (`Command failed -:N`);
 * - the operations before the one owning line N ran whole: they succeed; the owner fails with the
 *   error it would have had alone (its line numbers, its input); the ones after it never started
 *   and go into the next batch;
 * - when `ip` fails without naming a line (it could not start, sudo or ssh refused), nothing is
 *   known of what ran: every operation of the batch fails with that error, as it would have alone.
 *
 * A batch starts as soon as the previous one ends (at most {@link IN_FLIGHT} at once per target), so a
 * lone operation waits for nothing; operations that arrive while one runs ride the next. One
 * operation alone runs exactly as it would without sharing (`ip [-n NS] -batch -`); in a shared batch,
 * which runs in the root namespace, the lines of an operation in a named namespace become
 * `netns exec NS ip LINE`.
 */
import { CommandError, failedBatchLine, failedLineOf, type LineCommand, type RunResult } from "./exec";
import { absentUnless, type Target } from "./target";

/** A queue of operations of one kind on one target, and how a batch of them runs (returning those that did not run). */
interface Queue<Op> {
    waiting: Op[];
    running: number;
    runBatch: (ops: Op[]) => Promise<Op[]>;
}

/** Batches of one queue at once: one runs while the next fills (1, 2, 4 and 8 measured at 200 namespaces: 1 leaves the second core idle, 4 and 8 within noise of each other). */
const IN_FLIGHT = 4;
/** Lines per shared batch at most (a bound on what one failure sends back to the queue). */
const MAX_LINES = 500;

/** Queues an operation; runs batches while operations wait, the first after the operations started in this turn of the event loop. */
function enqueue<Op extends { lines: string[] }>(q: Queue<Op>, op: Op): void {
    q.waiting.push(op);
    if (q.running >= IN_FLIGHT) return;
    q.running++;
    setImmediate(async () => {
        try {
            while (q.waiting.length > 0) {
                let lines = 0;
                let n = 0;
                while (n < q.waiting.length && (n === 0 || lines + q.waiting[n].lines.length <= MAX_LINES)) lines += q.waiting[n++].lines.length;
                q.waiting.unshift(...(await q.runBatch(q.waiting.splice(0, n))));
            }
        } finally {
            q.running--;
        }
    });
}

/** The queues of one target: writes, and reads by their `ip` options (a read never waits behind a batch of writes). */
function queuesOf(t: Target): Queues {
    let q = queues.get(t);
    if (!q) queues.set(t, (q = { writes: { waiting: [], running: 0, runBatch: (ops) => runShared(t, ops) }, reads: new Map(), readers: new Map() }));
    return q;
}

interface Queues {
    writes: Queue<Operation>;
    reads: Map<string, Queue<Read>>;
    /** The readers kept running, by their `ip` options ({@link readerOf}). */
    readers: Map<string, LineCommand[]>;
}

const queues = new WeakMap<Target, Queues>();

/** The queue of a target's reads that take `options`, each batch of them one `ip OPTIONS -batch -`. */
function readQueueOf(t: Target, options: string[]): Queue<Read> {
    const reads = queuesOf(t).reads;
    const key = options.join(" ");
    let q = reads.get(key);
    if (!q) reads.set(key, (q = { waiting: [], running: 0, runBatch: (rs) => readShared(t, options, rs) }));
    return q;
}

/** One operation: its lines, for `ip [-n netns] -batch -`. */
interface Operation {
    netns: string | undefined;
    lines: string[];
    resolve: () => void;
    reject: (err: unknown) => void;
}

/** The `ip` argv prefix that targets a namespace: `ip -n NS` (or plain `ip` for the root namespace). */
export function ipIn(netns: string | undefined): string[] {
    return netns ? ["ip", "-n", netns] : ["ip"];
}

/**
 * Batch lines for another namespace than the batch's own: each runs as `netns exec NS ip LINE`, an
 * `ip` that the batch's `ip` starts (cheaper than a process of ours, and one round trip over SSH).
 */
export function netnsExecLines(netns: string, lines: string[]): string[] {
    return lines.map((l) => `netns exec ${netns} ip ${l}`);
}

/**
 * Runs several `ip` commands as one operation (names and addresses are validated, so no line needs
 * quoting); the first failing line stops the rest (see `failedBatchLine`), and rejects with the
 * {@link CommandError} of `ip [-n NS] -batch -` reading these lines. Equivalent to:
 * `ip [-n NS] -batch -` reading `lines`, possibly in one process with other operations' lines.
 */
export function ipBatch(t: Target, netns: string | undefined, lines: string[]): Promise<void> {
    if (lines.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => enqueue(queuesOf(t).writes, { netns, lines, resolve, reject }));
}

/** The input of `ip -batch -`: one line per line. */
const input = (lines: string[]) => lines.join("\n") + "\n";

/** An operation's lines as a shared batch (in the root namespace) reads them. */
const fed = (op: Operation) => (op.netns ? netnsExecLines(op.netns, op.lines) : op.lines);

/** Runs operations in one process; settles those that ran or failed, and returns those that did not run. */
async function runShared(t: Target, ops: Operation[]): Promise<Operation[]> {
    if (ops.length === 1) {
        const [op] = ops;
        await t.run([...ipIn(op.netns), "-batch", "-"], { input: input(op.lines) }).then(() => op.resolve(), op.reject);
        return [];
    }
    const lines = ops.flatMap(fed);
    try {
        await t.run(["ip", "-batch", "-"], { input: input(lines) });
    } catch (err) {
        const failed = failedBatchLine(err);
        if (failed === undefined) {
            for (const op of ops) op.reject(err);
            return [];
        }
        let first = 1; // the global number of the operation's first line
        for (const [k, op] of ops.entries()) {
            const last = first + op.lines.length - 1;
            if (failed > last) op.resolve();
            else {
                op.reject(alone(err as CommandError, op, failed - first + 1));
                return ops.slice(k + 1);
            }
            first = last + 1;
        }
        return []; // not reached: the failed line belongs to one of the operations
    }
    for (const op of ops) op.resolve();
    return [];
}

/** One read: `ip [-n NETNS] OPTIONS ARGS`, as a line of a shared `ip OPTIONS -batch -`. */
interface Read {
    netns: string | undefined;
    args: string[];
    lines: [string];
    resolve: (r: RunResult) => void;
    reject: (err: unknown) => void;
}

/**
 * Runs a read-only `ip` command (`-json … show`) and resolves its stdout, or undefined when it fails
 * with stderr matching `absent` (see `runUnlessAbsent`). A read in a named namespace is the line
 * `netns exec NS ip OPTIONS ARGS`, one in the root namespace the line `ARGS`; each prints exactly one
 * line (a JSON array). On this machine, reads in named namespaces with the same options (the leading
 * `-x` arguments, e.g. `-json -details`) are lines of an `ip OPTIONS -batch -` kept running
 * ({@link readLive}): each line is an `ip` of its own, forked inside it. Other reads (through sudo or
 * ssh, or in the root namespace, which a long-lived `ip` would read through its cache of names,
 * stale once a link is made anew) share an `ip OPTIONS -batch -` with the reads at the same time
 * ({@link readShared}). Equivalent to: `ip [-n NS] OPTIONS ARGS`.
 */
export async function ipShow(t: Target, netns: string | undefined, args: string[], absent: RegExp): Promise<string | undefined> {
    const first = args.findIndex((a) => !a.startsWith("-"));
    const n = first < 0 ? args.length : first;
    const options = args.slice(0, n);
    const line = netns === undefined ? args.slice(n).join(" ") : `netns exec ${netns} ip ${args.join(" ")}`;
    const start = netns === undefined ? undefined : t.startLines?.bind(t);
    const r = start
        ? await readLive(t, start, options, netns, args, line, absent)
        : await new Promise<RunResult>((resolve, reject) => enqueue(readQueueOf(t, options), { netns, args, lines: [line], resolve, reject }));
    return absentUnless(r, absent);
}

/**
 * Readers kept running per target and options, at most this many each: `netns exec` lines fork and
 * run inside them one after another, so two keep both cores busy.
 */
const READERS = 2;

/** An idle reader of these options, else a new one while there are fewer than {@link READERS}, else the least busy. */
function readerOf(t: Target, start: (argv: string[]) => LineCommand, options: string[]): LineCommand {
    const readers = queuesOf(t).readers;
    const key = options.join(" ");
    const pool = (readers.get(key) ?? []).filter((c) => c.alive);
    readers.set(key, pool);
    const idle = pool.find((c) => c.waiting === 0);
    if (idle) return idle;
    if (pool.length < READERS) {
        pool.push(start(["ip", ...options, "-batch", "-"]));
        return pool[pool.length - 1];
    }
    return pool.reduce((a, b) => (b.waiting < a.waiting ? b : a));
}

/**
 * A read as a line of a reader kept running: its output, or its failure when that reads as absent
 * (the reader then ends; the next read starts another). Any other failure runs again alone, for its
 * own exit code and messages (e.g. the capability a `netns exec` lacks). A read whose reader ended
 * before running it (another line failed) asks a new one, and after two such runs alone.
 */
async function readLive(
    t: Target,
    start: (argv: string[]) => LineCommand,
    options: string[],
    netns: string | undefined,
    args: string[],
    line: string,
    absent: RegExp,
): Promise<RunResult> {
    const command = [...ipIn(netns), ...args];
    for (let tries = 0; tries < 2; tries++) {
        const r = await readerOf(t, start, options).ask(line);
        if (r === undefined) continue;
        if (r.exitCode === 0 || absent.test(r.stderr)) return { ...r, command };
        break;
    }
    return t.tryRun(command);
}

/** Runs reads in one `ip OPTIONS -batch -`; settles those that ran, reruns alone the one that failed, returns those after it. */
async function readShared(t: Target, options: string[], reads: Read[]): Promise<Read[]> {
    const aloneRead = (r: Read) => t.tryRun([...ipIn(r.netns), ...r.args]).then(r.resolve, r.reject);
    if (reads.length === 1) {
        await aloneRead(reads[0]);
        return [];
    }
    const shared = await t.tryRun(["ip", ...options, "-batch", "-"], { input: input(reads.map((r) => r.lines[0])) }).catch(() => undefined);
    // How many reads ran (each printed one line); unknown when ip could not start or did not name the failed line.
    const ran = shared === undefined ? undefined : shared.exitCode === 0 ? reads.length : (failedLineOf(shared.stderr) ?? 0) - 1;
    const out = shared?.stdout.split("\n").filter(Boolean) ?? [];
    if (ran === undefined || ran < 0 || out.length !== ran) {
        await Promise.all(reads.map(aloneRead)); // which output is whose is unknown: reads are safe to repeat
        return [];
    }
    for (const [k, r] of reads.slice(0, ran).entries()) r.resolve({ command: [...ipIn(r.netns), ...r.args], stdout: out[k], stderr: "", exitCode: 0 });
    if (ran === reads.length) return [];
    await aloneRead(reads[ran]);
    return reads.slice(ran + 1);
}

/**
 * The error of a shared batch as the operation owning the failed line sees it: the command that ran,
 * only its own lines (as fed: `netns exec NS ip …` for a named namespace), their line number.
 */
function alone(err: CommandError, op: Operation, line: number): CommandError {
    const stderr = [...new Set(err.stderr.split("\n"))] // a failed `netns exec` reports the line twice (from ip and from its fork)
        .map((l) => (/^Command failed -:\d+$/.test(l) ? `Command failed -:${line}` : l))
        .join("\n");
    return new CommandError(err.command, err.exitCode, err.stdout, stderr, err, input(fed(op)));
}
