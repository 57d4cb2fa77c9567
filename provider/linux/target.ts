/**
 * Where and how commands run: a {@link Target} is handed explicitly to every function of the linux
 * layer (never ambient). {@link localTarget} is this process, as root (execFile and `fs`: no extra
 * process); `sudo` wraps each argv in `sudo -n --`; a remote target runs each argv through the
 * system OpenSSH client with connection multiplexing (one TCP connection and one authentication
 * per host, reused by every command of the provider host process):
 * `ssh -F none -o BatchMode=yes -o StrictHostKeyChecking=yes -o ControlMaster=auto -o ControlPath=DIR/%C
 * -o ControlPersist=60 [-p PORT] [-l USER] [-i KEYFILE] [-J JUMP] HOST -- 'argv0' 'argv1' …`.
 * File operations become commands there: `cat`, `stat -c '%i %.9Z'`, `mkdir -p` + `dd of=FILE.tmp` + `mv -f`, `rm -f`.
 */
import { createHash } from "crypto";
import { chmodSync, mkdirSync, mkdtempSync, promises as fs, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import type { Connection } from "../core/schema";
import { CommandError, explainFsError, run, RunOptions, RunResult, startLines, tryRun, type LineCommand } from "./exec";

/** Executes commands and small file operations on one host, as one user. */
export interface Target {
    /** Where commands run, as ids show it (`[user@]host[:port]`); undefined for this machine. */
    readonly host: string | undefined;
    /** Like exec's `run`: rejects with a {@link CommandError} on a non-zero exit. */
    run(argv: string[], options?: RunOptions): Promise<RunResult>;
    /** Like exec's `tryRun`: a non-zero exit resolves. */
    tryRun(argv: string[], options?: RunOptions): Promise<RunResult>;
    /**
     * Like exec's `startLines`, on this machine only: through sudo or ssh, a command kept running
     * would hold a sudo session or one of sshd's few multiplexed sessions (MaxSessions) for good.
     */
    startLines?(argv: string[]): LineCommand;
    /** A small file's text; undefined when it does not exist. `cat -- FILE` when not local. */
    readFile(file: string): Promise<string | undefined>;
    /** Writes a small file atomically, making its directory. `mkdir -p DIR`, `dd of=FILE.tmp`, `mv -f FILE.tmp FILE` when not local. */
    writeFile(file: string, data: string): Promise<void>;
    /** Removes a file; a missing one is success. `rm -f -- FILE` when not local. */
    removeFile(file: string): Promise<void>;
    /** A file's inode and change time; undefined when it does not exist. `stat -c '%i %.9Z' -- FILE` when not local. */
    stat(file: string): Promise<FileId | undefined>;
    /** Removes a directory if it is empty; a missing, non-empty or undeletable one is left (success). `rm -d -- DIR` when not local. */
    removeEmptyDir(dir: string): Promise<void>;
}

/**
 * What identifies a file: its inode, and its change time (`SECONDS.NANOSECONDS`), which tells apart
 * two files that got the same inode one after the other (the kernel reuses namespace inodes at once).
 */
export interface FileId {
    inode: number;
    ctime: string;
}

const missing = (err: unknown) => (err as NodeJS.ErrnoException).code === "ENOENT";

/** This machine, as the current (root) user: execFile for commands, `fs` for files. */
export const localTarget: Target = {
    host: undefined,
    run,
    tryRun,
    startLines,
    async readFile(file) {
        try {
            return await fs.readFile(file, "utf8");
        } catch (err) {
            if (missing(err)) return undefined;
            throw err;
        }
    },
    async writeFile(file, data) {
        // Twice: a delete that emptied the folder may remove it between mkdir and the write (linux/marker.ts).
        for (let attempt = 1; ; attempt++) {
            try {
                await fs.mkdir(path.dirname(file), { recursive: true });
                await fs.writeFile(`${file}.tmp`, data);
                await fs.rename(`${file}.tmp`, file);
                return;
            } catch (err) {
                if (attempt < 2 && missing(err)) continue;
                throw explainFsError(err, "its ownership markers under /run/pulumi-netns");
            }
        }
    },
    async removeFile(file) {
        await fs.rm(file, { force: true });
    },
    async stat(file) {
        try {
            const st = await fs.stat(file, { bigint: true });
            return { inode: Number(st.ino), ctime: `${st.ctimeNs / 1_000_000_000n}.${String(st.ctimeNs % 1_000_000_000n).padStart(9, "0")}` };
        } catch (err) {
            if (missing(err)) return undefined;
            throw err;
        }
    },
    async removeEmptyDir(dir) {
        try {
            await fs.rmdir(dir);
        } catch (err) {
            // Best effort: a folder that is not there, not empty, or not ours to remove is left.
            if (!["ENOENT", "ENOTEMPTY", "EEXIST", "EACCES", "EPERM", "EBUSY"].includes((err as NodeJS.ErrnoException).code ?? "")) throw err;
        }
    },
};

/**
 * Runs a command that reads or deletes one object: resolves its stdout, or undefined when it fails
 * with stderr matching `absent` (the object, or its namespace, is not there). Any other failure
 * rejects with a {@link CommandError}.
 */
export async function runUnlessAbsent(t: Target, argv: string[], absent: RegExp): Promise<string | undefined> {
    return absentUnless(await t.tryRun(argv), absent);
}

/** A command's stdout; undefined when it failed with stderr matching `absent`; else a {@link CommandError}. */
export function absentUnless(r: RunResult, absent: RegExp): string | undefined {
    if (r.exitCode === 0) return r.stdout;
    if (absent.test(r.stderr)) return undefined;
    throw new CommandError(r.command, r.exitCode, r.stdout, r.stderr);
}

/** Quotes argv for a POSIX shell: every element in single quotes, `'` as `'\''`. Nothing is left unquoted. */
export function shellQuote(argv: string[]): string {
    return argv.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ");
}

/** stderr of `cat`/`stat` for a missing file. */
const NO_FILE = /No such file or directory/;

/**
 * A target whose commands and file operations all go through `wrap` (sudo, ssh). `reads` reads
 * files some other way (sudo on this machine: the files pulumi-netns reads are world-readable).
 */
function commandTarget(
    host: string | undefined,
    wrap: (argv: string[]) => string[],
    extra: {
        env?: Record<string, string>;
        /** Runs each command (e.g. after connecting, at most N at once). */
        gate?: Gate;
        reads?: Pick<Target, "readFile" | "stat">;
    } = {},
): Target {
    const gate = extra.gate ?? ((fn) => fn());
    const through = (fn: typeof run) => (argv: string[], options: RunOptions = {}) =>
        gate(() => fn(wrap(argv), { ...options, env: { ...options.env, ...extra.env } }));
    const t: Target = {
        host,
        run: through(run),
        tryRun: through(tryRun),
        async readFile(file) {
            if (extra.reads) return extra.reads.readFile(file);
            const text = await runUnlessAbsent(t, ["cat", "--", file], NO_FILE);
            return text === undefined ? undefined : text + "\n"; // exec trims one trailing newline
        },
        async writeFile(file, data) {
            // Twice: a delete that emptied the folder may remove it between mkdir and dd (linux/marker.ts).
            for (let attempt = 1; ; attempt++) {
                await t.run(["mkdir", "-p", "--", path.dirname(file)]);
                const r = await t.tryRun(["dd", `of=${file}.tmp`, "status=none"], { input: data });
                if (r.exitCode === 0) break;
                if (attempt < 2 && NO_FILE.test(r.stderr)) continue;
                throw new CommandError(r.command, r.exitCode, r.stdout, r.stderr);
            }
            await t.run(["mv", "-f", "--", `${file}.tmp`, file]);
        },
        async removeFile(file) {
            await t.run(["rm", "-f", "--", file]);
        },
        async removeEmptyDir(dir) {
            await runUnlessAbsent(t, ["rm", "-d", "--", dir], /No such file or directory|Directory not empty|Permission denied|Device or resource busy/);
        },
        async stat(file) {
            if (extra.reads) return extra.reads.stat(file);
            const out = await runUnlessAbsent(t, ["stat", "-c", "%i %.9Z", "--", file], NO_FILE);
            if (out === undefined) return undefined;
            const [inode, ctime] = out.trim().split(" ");
            return { inode: Number(inode), ctime };
        },
    };
    return t;
}

/** `sudo -n -- ARGV`: never prompts; a password needed is a clear error (see CommandError). */
const withSudo = (argv: string[]) => ["sudo", "-n", "--", ...argv];

/** A directory only this process's user can read, made once (key files, known_hosts), removed when the process exits. */
let privateDir: string | undefined;
function privateFile(name: string, data: string): string {
    if (!privateDir) {
        privateDir = mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-ssh-"));
        chmodSync(privateDir, 0o700);
        const dir = privateDir;
        process.once("exit", () => rmSync(dir, { recursive: true, force: true }));
    }
    const file = path.join(privateDir, name);
    writeFileSync(file, data, { mode: 0o600 });
    return file;
}

/** Where the multiplexing sockets live (`ControlPath DIR/%C`): /run/pulumi-netns/ssh as root, else a per-user temp directory. */
function controlDir(): string {
    const dir = process.getuid?.() === 0 ? "/run/pulumi-netns/ssh" : path.join(os.tmpdir(), `pulumi-netns-ssh-${process.getuid?.()}`);
    mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 }); // /run/pulumi-netns stays readable (markers)
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
}

/** The program SSH_ASKPASS runs to hand ssh the key's passphrase: it prints an environment variable (no shell interpolation of the secret). */
const ASKPASS = `#!/bin/sh\nprintf '%s\\n' "$PULUMI_NETNS_SSH_PASSPHRASE"\n`;

/** Runs a task when its turn comes (see {@link limiter}). */
export type Gate = <T>(fn: () => Promise<T>) => Promise<T>;

/** A gate that runs at most `n` tasks at once, the others in order as places free up. */
export function limiter(n: number): Gate {
    let active = 0;
    const queue: (() => void)[] = [];
    return async (fn) => {
        if (active < n) active++;
        else await new Promise<void>((resolve) => queue.push(resolve));
        try {
            return await fn();
        } finally {
            const next = queue.shift();
            if (next) next();
            else active--;
        }
    };
}

/** `[user@]host[:port]`, IPv6 hosts in brackets. */
export function hostLabel(c: Connection): string {
    const host = c.host.includes(":") ? `[${c.host}]` : c.host;
    return `${c.user ? `${c.user}@` : ""}${host}${(c.port ?? 22) === 22 ? "" : `:${c.port}`}`;
}

/** Explains a failed first connection (host key, authentication), without any secret. */
function connectError(c: Connection, err: CommandError): Error {
    const why = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No .* host key is known/.test(err.stderr)
        ? "the host's key is unknown or has changed: give connection.hostKey (the host's public key, e.g. its /etc/ssh/ssh_host_ed25519_key.pub) or add it to known_hosts"
        : /Permission denied/.test(err.stderr)
          ? "authentication failed: check connection.user, privateKey (and privateKeyPassword) or agentSocketPath"
          : c.proxyJump && /kex_exchange_identification|Connection closed by UNKNOWN/.test(err.stderr)
            ? `the jump host (proxyJump ${c.proxyJump}) closed the connection: a jump host must be in ~/.ssh/known_hosts or ` +
              "/etc/ssh/ssh_known_hosts (connection.hostKey is the target's key only), and it authenticates with the ssh-agent " +
              "(agentSocketPath) or ~/.ssh/id_*, not privateKey"
            : "the host could not be reached over ssh";
    return new Error(`cannot connect to ${hostLabel(c)}: ${why}; ${err.message}`, { cause: err });
}

/**
 * A remote host through the system OpenSSH client, multiplexed: the first command opens the master
 * connection (`ssh … HOST -- true`, which also verifies the host key), every later one rides it.
 * `sudo` runs each command through `sudo -n --` on the remote host.
 */
function sshTarget(c: Connection, sudo: boolean): Target {
    const digest = createHash("sha256").update(JSON.stringify(c)).digest("hex").slice(0, 16);
    const opts = [
        // -J runs a nested ssh for each jump host that gets none of the options below, only `-F FILE`:
        // this file makes every hop, not just the target, non-interactive and strict about host keys.
        "-F", privateFile("ssh_config", "BatchMode yes\nStrictHostKeyChecking yes\nConnectTimeout 20\n"),
        "-o", "StrictHostKeyChecking=yes",
        "-o", "ControlMaster=auto",
        // One master per distinct connection (host, user, key, host key…): a resource giving other
        // credentials gets its own connection, authenticated and verified with those, never another's.
        "-o", `ControlPath=${controlDir()}/${digest}`,
        "-o", "ControlPersist=60",
        "-o", "ConnectTimeout=20",
        "-o", "ServerAliveInterval=15",
        "-o", "LogLevel=ERROR",
        // With a passphrase, the target (only) may ask SSH_ASKPASS for it, and for nothing else.
        ...(c.privateKeyPassword === undefined ? ["-o", "BatchMode=yes"] : ["-o", "BatchMode=no", "-o", "PasswordAuthentication=no"]),
        "-p", String(c.port ?? 22),
    ];
    const env: Record<string, string> = {};
    if (c.user) opts.push("-l", c.user);
    if (c.privateKey) opts.push("-o", "IdentitiesOnly=yes", "-i", privateFile(`key-${digest}`, c.privateKey.replace(/\r?\n?$/, "\n")));
    if (c.proxyJump) opts.push("-J", c.proxyJump);
    if (c.hostKey) {
        const pattern = (c.port ?? 22) === 22 ? c.host : `[${c.host}]:${c.port}`;
        opts.push("-o", `UserKnownHostsFile=${privateFile(`known_hosts-${digest}`, `${pattern} ${c.hostKey.trim()}\n`)}`, "-o", "GlobalKnownHostsFile=/dev/null");
    }
    if (c.agentSocketPath) env.SSH_AUTH_SOCK = c.agentSocketPath;
    if (c.privateKeyPassword !== undefined) {
        opts.push("-o", "KbdInteractiveAuthentication=no");
        Object.assign(env, { SSH_ASKPASS: privateFile("askpass", ASKPASS), SSH_ASKPASS_REQUIRE: "force", PULUMI_NETNS_SSH_PASSPHRASE: c.privateKeyPassword });
        chmodSync(env.SSH_ASKPASS, 0o700);
    }
    // The remote shell gets one string: a fixed `LC_ALL=C` (stable messages to match) and the quoted argv.
    const ssh = (argv: string[]) => ["ssh", ...opts, c.host, "--", `LC_ALL=C ${shellQuote(sudo ? withSudo(argv) : argv)}`];
    const limit = limiter(8); // sshd refuses more than MaxSessions (10 by default) multiplexed sessions
    let connected: Promise<void> | undefined;
    const connect = () =>
        (connected ??= run(["ssh", ...opts, c.host, "--", "true"], { env }).then(
            () => undefined,
            (err) => {
                connected = undefined; // the next operation tries again
                throw err instanceof CommandError ? connectError(c, err) : err;
            },
        ));
    return commandTarget(hostLabel(c), ssh, { env, gate: async (fn) => (await connect(), limit(fn)) });
}

const targets = new Map<string, Target>();

/**
 * The target of a resource's (validated) `connection` and `sudo` inputs or state, one per distinct
 * pair for the provider host's lifetime (so one ssh connection per host serves every resource and operation).
 */
export function targetOf({ connection, sudo }: { connection?: Connection; sudo?: boolean }): Target {
    if (!connection && !sudo) return localTarget;
    const key = JSON.stringify([connection ?? null, !!sudo]);
    let t = targets.get(key);
    if (!t) {
        t = connection ? sshTarget(connection, !!sudo) : commandTarget(undefined, withSudo, { reads: localTarget });
        targets.set(key, t);
    }
    return t;
}

/** A resource id on its target: the local id, prefixed with `ssh://HOST/` when remote (the same names on two hosts never collide). */
export function targetId(t: Target, localId: string): string {
    return t.host === undefined ? localId : `ssh://${t.host}/${localId}`;
}
