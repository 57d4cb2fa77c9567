/**
 * Reads of this machine's /proc about other processes: which one listens on a TCP port, its
 * working directory and its environment. Local only (never through a connection's target), and
 * every read that fails (no such process, not permitted) answers undefined.
 */
import { readFileSync, readdirSync, readlinkSync } from "fs";

/** TCP state LISTEN in /proc/net/tcp{,6} (include/net/tcp_states.h, TCP_LISTEN = 10). */
const TCP_LISTEN = "0A";

/** Socket inodes of the TCP sockets listening on `port` (IPv4 and IPv6), in this process's network namespace. */
function listeningInodes(port: number): Set<string> {
    const inodes = new Set<string>();
    for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
        let text: string;
        try {
            text = readFileSync(table, "utf8");
        } catch {
            continue;
        }
        // "  sl  local_address rem_address   st tx_queue:rx_queue tr:tm->when retrnsmt   uid  timeout inode"
        for (const line of text.split("\n").slice(1)) {
            const f = line.trim().split(/\s+/);
            if (f.length < 10 || f[3] !== TCP_LISTEN) continue;
            if (parseInt(f[1].split(":").pop() ?? "", 16) === port) inodes.add(f[9]);
        }
    }
    return inodes;
}

/**
 * The process that listens on TCP `port` (the first found holding such a socket), or undefined.
 * Equivalent to: `ss -Hltnp 'sport = :PORT'` (the `pid=` of its `users:` column).
 */
export function findListeningProcess(port: number): number | undefined {
    const inodes = listeningInodes(port);
    if (inodes.size === 0) return undefined;
    const wanted = new Set([...inodes].map((i) => `socket:[${i}]`));
    let pids: string[];
    try {
        pids = readdirSync("/proc").filter((e) => /^\d+$/.test(e));
    } catch {
        return undefined;
    }
    for (const pid of pids) {
        let fds: string[];
        try {
            fds = readdirSync(`/proc/${pid}/fd`);
        } catch {
            continue;
        }
        for (const fd of fds) {
            try {
                if (wanted.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return Number(pid);
            } catch {
                // closed meanwhile
            }
        }
    }
    return undefined;
}

/** The working directory of process `pid`, or undefined. Equivalent to: `readlink /proc/PID/cwd`. */
export function readProcessCwd(pid: number): string | undefined {
    try {
        return readlinkSync(`/proc/${pid}/cwd`);
    } catch {
        return undefined;
    }
}

/** The environment process `pid` was started with, or undefined. Equivalent to: `tr '\0' '\n' < /proc/PID/environ`. */
export function readProcessEnv(pid: number): Record<string, string> | undefined {
    try {
        const env: Record<string, string> = {};
        for (const entry of readFileSync(`/proc/${pid}/environ`, "utf8").split("\0")) {
            const eq = entry.indexOf("=");
            if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
        }
        return env;
    } catch {
        return undefined;
    }
}
