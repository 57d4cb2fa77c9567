import { appendFileSync } from "fs";

/**
 * The one place where pulumi-netns starts a process. Every system call of the
 * package goes through {@link run}: an argv array handed to execa, never a shell.
 * With PULUMI_NETNS_TRACE=FILE set, each argv is appended to FILE as a JSON line.
 */

/** Thrown when a command fails: carries the argv, exit code, stdout and stderr, and keeps the cause. */
export class CommandError extends Error {
    readonly command: string[];
    readonly exitCode: number | undefined;
    readonly stdout: string;
    readonly stderr: string;

    /** What the command read on standard input (e.g. the lines of `ip -batch -`), if anything. */
    readonly input: string | undefined;

    constructor(command: string[], exitCode: number | undefined, stdout: string, stderr: string, cause?: unknown, input?: string) {
        const status = exitCode === undefined ? "could not be started" : `failed with exit code ${exitCode}`;
        const detail = stderr.trim() || (cause instanceof Error ? cause.message : "");
        const fed = input === undefined ? "" : ` (reading: ${JSON.stringify(input.trimEnd().split("\n"))})`;
        super(`command \`${formatCommand(command)}\`${fed} ${status}${detail ? `: ${detail}` : ""}`, { cause });
        this.input = input;
        this.name = "CommandError";
        this.command = command;
        this.exitCode = exitCode;
        this.stdout = stdout;
        this.stderr = stderr;
    }
}

/** Quotes an argv for messages only (it is never handed to a shell). */
export function formatCommand(argv: string[]): string {
    return argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

export interface RunResult {
    stdout: string;
    stderr: string;
    exitCode: number;
}

export interface RunOptions {
    /** Text written to the command's standard input (e.g. for `ip -batch -`). */
    input?: string;
}

/** Receives every argv before it runs; tests use it to prove what ran (and that nothing did). */
export type CommandObserver = (argv: string[]) => void;

let observer: CommandObserver | undefined;

/** Installs (or with no argument removes) the observer told of every command before it starts. */
export function observeCommands(fn?: CommandObserver): void {
    observer = fn;
}

type Execa = typeof import("execa", { with: { "resolution-mode": "import" } });
let execaModule: Promise<Execa> | undefined;

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
    if (argv.length === 0 || argv.some((a) => typeof a !== "string" || a.includes("\0"))) {
        throw new Error(`refusing to run a malformed command: ${JSON.stringify(argv)}`);
    }
    observer?.(argv.slice());
    if (process.env.PULUMI_NETNS_TRACE) appendFileSync(process.env.PULUMI_NETNS_TRACE, JSON.stringify(argv) + "\n");
    execaModule ??= import("execa");
    const { execa } = await execaModule;
    try {
        const r = await execa(argv[0], argv.slice(1), {
            input: options.input,
            stdin: options.input === undefined ? "ignore" : undefined,
            reject: false,
            stripFinalNewline: true,
            env: { LC_ALL: "C" },
        });
        if (r.exitCode === undefined) {
            const cause = r instanceof Error ? r : undefined;
            throw new CommandError(argv, undefined, String(r.stdout ?? ""), String(r.stderr ?? ""), cause);
        }
        return { stdout: String(r.stdout), stderr: String(r.stderr), exitCode: r.exitCode };
    } catch (err) {
        if (err instanceof CommandError) throw err;
        throw new CommandError(argv, undefined, "", "", err);
    }
}
