import { execFile, spawn } from "child_process";
import { appendFileSync, readFileSync } from "fs";
import type { Socket } from "net";

/**
 * The one place where pulumi-netns starts a process. Every system call of the package goes through
 * {@link run} (an argv array handed to `child_process.execFile`), or is a line written to a command
 * {@link startLines} keeps running; never through a shell. (Not execa: measured here at 3.2 ms of
 * Node CPU per command against 1.2 ms, and a provider host peaking at 253 MB instead of 166 MB for
 * 200 namespaces; see docs/performance.md.)
 * With PULUMI_NETNS_TRACE=FILE set, each argv started is appended to FILE as a JSON line.
 */

/** Thrown when a command fails: carries the argv, exit code, stdout and stderr, and keeps the cause. */
export class CommandError extends Error {
    readonly command: string[];
    readonly exitCode: number | undefined;
    readonly stdout: string;
    readonly stderr: string;

    /** What the command read on standard input (e.g. the lines of `ip -batch -`), if anything. */
    readonly input: string | undefined;

    /**
     * The capabilities this process lacks when the command failed for want of privilege
     * (e.g. "CAP_NET_ADMIN"); the message then starts by saying so. Undefined otherwise.
     */
    readonly missingCapabilities: string | undefined;

    constructor(command: string[], exitCode: number | undefined, stdout: string, stderr: string, cause?: unknown, input?: string) {
        const status = exitCode === undefined ? "could not be started" : `failed with exit code ${exitCode}`;
        const detail = stderr.trim() || (cause instanceof Error ? cause.message : "");
        const fed = input === undefined ? "" : ` (reading: ${JSON.stringify(input.trimEnd().split("\n"))})`;
        const missing = exitCode === undefined ? undefined : missingCapabilities(command, stderr, input);
        const hint = missing
            ? `not permitted: pulumi-netns needs ${missing}, which this process (uid ${process.getuid?.()}) lacks: run it as root; `
            : exitCode !== undefined && command.includes("sudo") && SUDO_REFUSED.test(stderr)
              ? "sudo refused: pulumi-netns runs commands through `sudo -n` (never prompting), and sudo wants a password or has no rule for this " +
                "command: give this user a NOPASSWD sudoers rule for ip, iptables, ip6tables, sysctl, tc, bridge and the file commands (cat, stat, mkdir, dd, mv, rm), or run as root; "
              : "";
        super(`${hint}command \`${formatCommand(command)}\`${fed} ${status}${detail ? `: ${detail}` : ""}`, { cause });
        this.input = input;
        this.name = "CommandError";
        this.command = command;
        this.exitCode = exitCode;
        this.stdout = stdout;
        this.stderr = stderr;
        this.missingCapabilities = missing;
    }
}

/**
 * Turns a file system refusal (EACCES, EPERM) while writing pulumi-netns' own markers under /run
 * into the same kind of message as a command refused for want of privilege; other errors pass.
 */
export function explainFsError(err: unknown, what: string): unknown {
    const code = (err as NodeJS.ErrnoException)?.code;
    if (code !== "EACCES" && code !== "EPERM") return err;
    return new Error(
        `not permitted: pulumi-netns needs root (CAP_NET_ADMIN, and write access to ${what}), which this process (uid ${process.getuid?.()}) lacks: ` +
            `run it as root; ${(err as Error).message}`,
        { cause: err },
    );
}

/** stderr of `sudo -n` when it would need a password, or the user may not run the command. */
const SUDO_REFUSED = /sudo: a password is required|is not allowed to execute|is not in the sudoers file|may not run sudo/;

/** stderr of ip, iptables and sysctl refused for want of privilege. */
const NOT_PERMITTED = /Operation not permitted|Permission denied|you must be root/i;

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;

/** The effective capability set of this process, from /proc/self/status (all, if it cannot be read). */
function effectiveCapabilities(): bigint {
    try {
        const m = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync("/proc/self/status", "utf8"));
        return m ? BigInt(`0x${m[1]}`) : ~0n;
    } catch {
        return ~0n;
    }
}

/**
 * When stderr says permission was denied and this process lacks a capability the command needs,
 * names the missing ones: CAP_NET_ADMIN for every command, and CAP_SYS_ADMIN too for commands that
 * create, delete or enter a named namespace (`ip netns add|delete|exec`, `ip -n NS`, or an `ip -batch`
 * reading such lines). A refusal despite both capabilities (e.g. a read-only /proc/sys) is left as
 * the command reported it.
 */
function missingCapabilities(command: string[], stderr: string, input: string | undefined): string | undefined {
    // Only this process's own capabilities can be named: not those of a command run through sudo or ssh.
    if (!NOT_PERMITTED.test(stderr) || command[0] === "sudo" || command[0] === "ssh") return undefined;
    const needsSysAdmin = command[0] === "ip" && (command[1] === "netns" || command[1] === "-n" || /^netns /m.test(input ?? ""));
    const have = effectiveCapabilities();
    const lacking = [
        ...((have >> BigInt(CAP_NET_ADMIN)) & 1n ? [] : ["CAP_NET_ADMIN"]),
        ...(needsSysAdmin && !((have >> BigInt(CAP_SYS_ADMIN)) & 1n) ? ["CAP_SYS_ADMIN"] : []),
    ];
    return lacking.length > 0 ? lacking.join(" and ") : undefined;
}

/** The line of an `ip -batch` input that failed, as ip reports it (`Command failed -:N`); undefined when it does not say. */
export function failedBatchLine(err: unknown): number | undefined {
    return err instanceof CommandError ? failedLineOf(err.stderr) : undefined;
}

/** The line number in `Command failed -:N` of an `ip -batch` stderr; undefined when there is none. */
export function failedLineOf(stderr: string): number | undefined {
    const m = /^Command failed -:(\d+)$/m.exec(stderr);
    return m ? Number(m[1]) : undefined;
}

/** Quotes an argv for messages only (it is never handed to a shell). */
export function formatCommand(argv: string[]): string {
    // ssh: the host and the remote command line as sent (its options name only files, never a secret).
    const sep = argv[0] === "ssh" ? argv.indexOf("--") : -1;
    if (sep > 1 && sep === argv.length - 2) return `ssh ${argv[sep - 1]} -- ${argv[sep + 1]}`;
    return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export interface RunResult {
    /** The argv as it ran (with any `sudo`/`ssh` wrapping), for error messages. */
    command: string[];
    stdout: string;
    stderr: string;
    exitCode: number;
}

export interface RunOptions {
    /** Text written to the command's standard input (e.g. for `ip -batch -`). */
    input?: string;
    /** Extra environment variables (e.g. SSH_AUTH_SOCK for ssh); never shown in messages or traces. */
    env?: Record<string, string>;
}

/**
 * Receives every argv (and what it will read on stdin) before it runs, and every line written to a
 * command kept running ({@link startLines}) as that command reading it, with `running` true (no
 * process starts for it); tests use it to prove what ran (and that nothing did).
 */
export type CommandObserver = (argv: string[], input?: string, running?: boolean) => void;

let observer: CommandObserver | undefined;

/** Installs (or with no argument removes) the observer told of every command before it starts. */
export function observeCommands(fn?: CommandObserver): void {
    observer = fn;
}


/** Refuses an argv that is empty or holds a non-string or a NUL; tells the observer and the trace what will run. */
function starting(argv: string[], input: string | undefined): void {
    if (argv.length === 0 || argv.some((a) => typeof a !== "string" || a.includes("\0"))) {
        throw new Error(`refusing to run a malformed command: ${JSON.stringify(argv)}`);
    }
    observer?.(argv.slice(), input);
    if (process.env.PULUMI_NETNS_TRACE) appendFileSync(process.env.PULUMI_NETNS_TRACE, JSON.stringify(argv) + "\n");
}

/** A command's environment: this process's, messages in the C locale (stderr is matched), and `extra`. */
const environment = (extra?: Record<string, string>) => ({ ...process.env, LC_ALL: "C", ...extra });

/**
 * Runs argv[0] with the rest as arguments, without a shell, and resolves with its output.
 * Rejects with a {@link CommandError} on a non-zero exit or when the program cannot start.
 */
export async function run(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    const result = await tryRun(argv, options);
    if (result.exitCode !== 0) {
        throw new CommandError(argv, result.exitCode, result.stdout, result.stderr, undefined, options.input);
    }
    return result;
}

/** Like {@link run}, but a non-zero exit resolves (callers that expect one, e.g. `iptables -C`, inspect it). */
export async function tryRun(argv: string[], options: RunOptions = {}): Promise<RunResult> {
    starting(argv, options.input);
    return new Promise((resolve, reject) => {
        const child = execFile(
            argv[0],
            argv.slice(1),
            { env: environment(options.env), encoding: "utf8", maxBuffer: 256 * 1024 * 1024 },
            (error, stdout, stderr) => {
                const code = (error as { code?: unknown } | null)?.code;
                if (error && typeof code !== "number") {
                    // Not an exit status: the program could not be started (ENOENT, EACCES, ...) or was killed.
                    reject(new CommandError(argv, undefined, stdout, stderr, error, options.input));
                    return;
                }
                resolve({ command: argv, stdout: stdout.replace(/\n$/, ""), stderr: stderr.replace(/\n$/, ""), exitCode: error ? (code as number) : 0 });
            },
        );
        child.stdin?.on("error", () => undefined); // a program may exit without reading its input
        child.stdin?.end(options.input);
    });
}

/**
 * A command kept running that answers each line written to its standard input with one line of
 * standard output, in order, and ends at the first line that fails: `ip -json … -batch -`, whose
 * `-json` output is flushed command by command, and which stops at a failed line and names it
 * (`Command failed -:N`). Each line is a command the provider host does not start: that costs its
 * only thread ~3 ms (docs/performance.md).
 */
export interface LineCommand {
    /**
     * Writes `line`; resolves with its answer: its line of stdout (exit code 0), or, when it is the
     * line that failed, the command's exit code and stderr (without `Command failed -:N`); undefined
     * when the command ended before running it (after another line failed, or it could not start).
     */
    ask(line: string): Promise<RunResult | undefined>;
    /** Lines written and not answered yet. */
    readonly waiting: number;
    /** False once the command has ended: it answers nothing more. */
    readonly alive: boolean;
}

/**
 * Starts argv as a {@link LineCommand}. It never keeps this process alive while no line waits for an
 * answer, and it ends when this process does (its standard input closes). The trace is told of it as
 * it starts (lines start no process); the observer as it starts, and of each line (see {@link CommandObserver}).
 */
export function startLines(argv: string[]): LineCommand {
    starting(argv, undefined);
    const child = spawn(argv[0], argv.slice(1), { env: environment(), stdio: "pipe" });
    const handles = [child, ...([child.stdin, child.stdout, child.stderr] as unknown as Socket[])]; // its pipes are sockets
    const hold = (on: boolean) => handles.forEach((h) => (on ? h.ref() : h.unref()));
    hold(false);
    const waiting: ((r: RunResult | undefined) => void)[] = [];
    let sent = 0;
    let out = "";
    let err = "";
    let alive = true;
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
        out += d;
        for (let nl = out.indexOf("\n"); nl >= 0 && waiting.length > 0; nl = out.indexOf("\n")) {
            waiting.shift()!({ command: argv, stdout: out.slice(0, nl), stderr: "", exitCode: 0 });
            out = out.slice(nl + 1);
        }
        if (out.includes("\n")) child.kill(); // a line nobody waits for: its answers are out of step
        if (waiting.length === 0) hold(false);
    });
    child.stderr.setEncoding("utf8").on("data", (d: string) => (err = (err + d).slice(-65536)));
    child.stdin.on("error", () => undefined); // it ended: `close` answers the lines waiting
    const end = (code: number | null) => {
        if (!alive) return;
        alive = false;
        const failed = code ? failedLineOf(err) : undefined;
        // a failed `netns exec` line reports its error twice (from ip and from its fork)
        const stderr = [...new Set(err.split("\n").filter((l) => l && !/^Command failed -:\d+$/.test(l)))].join("\n");
        const first = sent - waiting.length + 1; // the number of the first line not answered
        for (const [k, answer] of waiting.entries()) answer(failed === first + k ? { command: argv, stdout: "", stderr, exitCode: code! } : undefined);
        waiting.length = 0;
        hold(false);
    };
    child.on("error", () => end(null));
    child.on("close", (code) => end(code));
    return {
        ask(line) {
            if (!alive) return Promise.resolve(undefined);
            observer?.(argv.slice(), line + "\n", true);
            sent++;
            hold(true);
            return new Promise((answer) => {
                waiting.push(answer);
                child.stdin.write(line + "\n");
            });
        },
        get waiting() {
            return waiting.length;
        },
        get alive() {
            return alive;
        },
    };
}
