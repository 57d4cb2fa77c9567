/**
 * A second host for remote tests: network namespace `remote` (its own network stack) reached over
 * a veth from the sandbox root (10.77.0.1/24 ↔ 10.77.0.2/24), running Debian's sshd listening only
 * on 10.77.0.2, with a host key and a client key generated for the test in a temp directory. The
 * client side never reads or writes /root/.ssh: the connection carries the host key and the key.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import type { Connection } from "../../provider/core/schema";
import { sh } from "./kernel";
import { assertSandbox } from "./sandbox";

export const REMOTE_NETNS = "remote";
export const REMOTE_ADDRESS = "10.77.0.2";

export interface Sshd {
    /** A connection as root to the remote host: host, key and host key (no known_hosts needed). */
    connection: Connection;
    /** The generated host public key ("ssh-ed25519 AAAA…"). */
    hostKey: string;
    /** The generated client private key (OpenSSH form) and its public half. */
    privateKey: string;
    publicKey: string;
    /** The temp directory (authorized_keys lives there: append a key to let it in). */
    dir: string;
    /**
     * Runs argv on the remote host as its sshd sees the world: sshd's network and mount namespaces
     * (`nsenter -t PID -m -n`). Namespaces made over ssh are mounted there only (`ip netns exec`
     * makes its mount namespace a slave), so `ip netns exec NS …` for them works only through this.
     */
    exec(argv: string[]): Promise<string>;
    stop(): Promise<void>;
}

/** True when Debian's sshd is installed (openssh-server). */
export function haveSshd(): boolean {
    return fs.existsSync("/usr/sbin/sshd") && fs.existsSync("/usr/bin/ssh-keygen");
}

/** Resolves once something accepts TCP connections on host:port (or rejects after `ms`). */
async function waitForPort(host: string, port: number, ms = 10000): Promise<void> {
    const deadline = Date.now() + ms;
    for (;;) {
        const ok = await new Promise<boolean>((resolve) => {
            const s = net.connect({ host, port }, () => (s.destroy(), resolve(true)));
            s.on("error", () => resolve(false));
        });
        if (ok) return;
        if (Date.now() > deadline) throw new Error(`sshd did not listen on ${host}:${port}`);
        await new Promise((r) => setTimeout(r, 50));
    }
}

/**
 * Writes `DIR/sshd_config` for a test sshd listening on `listen` (addresses, or address:port), with
 * DIR's host_key, authorized_keys and sshd.pid, key logins only; returns its path.
 */
export function writeSshdConfig(dir: string, listen: string[]): string {
    const config = path.join(dir, "sshd_config");
    fs.writeFileSync(config, [
        ...listen.map((l) => `ListenAddress ${l}`),
        `HostKey ${path.join(dir, "host_key")}`,
        `AuthorizedKeysFile ${path.join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        `PidFile ${path.join(dir, "sshd.pid")}`,
        "UsePAM no",
        "StrictModes no",
        "MaxSessions 20",
        "MaxStartups 50",
        "",
    ].join("\n"));
    return config;
}

/** Starts the second host and its sshd. Only inside the sandbox (private /run, network and mounts). */
export async function startSshd(): Promise<Sshd> {
    assertSandbox();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-sshd-"));
    for (const argv of [
        ["ip", "netns", "add", REMOTE_NETNS],
        ["ip", "-n", REMOTE_NETNS, "link", "set", "lo", "up"],
        ["ip", "link", "add", "sshv0", "type", "veth", "peer", "name", "eth0", "netns", REMOTE_NETNS],
        ["ip", "addr", "add", "10.77.0.1/24", "dev", "sshv0"],
        ["ip", "link", "set", "sshv0", "up"],
        ["ip", "-n", REMOTE_NETNS, "addr", "add", `${REMOTE_ADDRESS}/24`, "dev", "eth0"],
        ["ip", "-n", REMOTE_NETNS, "link", "set", "eth0", "up"],
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-host", "-f", path.join(dir, "host_key")],
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-client", "-f", path.join(dir, "client_key")],
    ]) await sh(argv);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    fs.writeFileSync(path.join(dir, "authorized_keys"), read("client_key.pub"), { mode: 0o600 });
    const config = writeSshdConfig(dir, [REMOTE_ADDRESS]);
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory (the sandbox's private /run)
    // Debian's bash sources ~/.bashrc for every command run over ssh; this machine's (pyenv init) costs
    // ~120 ms a command. Inside the sandbox's private mount namespace only, an empty file hides it
    // (the machine's file is untouched); real hosts pay whatever their shell startup costs.
    if (fs.existsSync("/root/.bashrc")) {
        fs.writeFileSync(path.join(dir, "bashrc"), "");
        await sh(["mount", "--bind", path.join(dir, "bashrc"), "/root/.bashrc"]);
    }
    // The log goes to a file, not a pipe of ours: sshd's session processes inherit it and may outlive
    // the listener (while a client's master connection persists), which would keep this process alive.
    const log = path.join(dir, "sshd.log");
    const child: ChildProcess = spawn("ip", ["netns", "exec", REMOTE_NETNS, "/usr/sbin/sshd", "-D", "-E", log, "-f", config], { stdio: "ignore" });
    try {
        await waitForPort(REMOTE_ADDRESS, 22);
    } catch (err) {
        child.kill();
        throw new Error(`${(err as Error).message}: ${fs.existsSync(log) ? fs.readFileSync(log, "utf8") : ""}`);
    }
    const hostKey = read("host_key.pub").trim();
    const privateKey = read("client_key");
    return {
        connection: { host: REMOTE_ADDRESS, user: "root", privateKey, hostKey },
        hostKey,
        privateKey,
        publicKey: read("client_key.pub").trim(),
        dir,
        exec: (argv) => sh(["nsenter", "-t", String(child.pid), "-m", "-n", "--", ...argv]),
        async stop() {
            child.kill();
            await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once("exit", r)));
            // Session processes of connections still open (ssh masters persist a while): every process of the second host goes.
            for (const pid of (await sh(["ip", "netns", "pids", REMOTE_NETNS]).catch(() => "")).split("\n").filter(Boolean)) {
                try {
                    process.kill(Number(pid), "SIGKILL");
                } catch {
                    // already gone
                }
            }
            await sh(["ip", "link", "del", "sshv0"]).catch(() => undefined);
            await sh(["ip", "netns", "del", REMOTE_NETNS]).catch(() => undefined);
            await sh(["umount", "/root/.bashrc"]).catch(() => undefined);
            fs.rmSync(dir, { recursive: true, force: true });
        },
    };
}

/**
 * A deterministic description of the remote host's network stack (links, addresses, routes,
 * iptables rules, forwarding sysctls), to compare before and after.
 */
export async function snapshotRemote(sshd: Sshd): Promise<string> {
    const inRemote = (...argv: string[]) => sshd.exec(argv);
    const links = JSON.parse(await inRemote("ip", "-json", "-d", "link", "show")).map((l: any) => [l.ifname, l.ifalias ?? null, l.master ?? null, l.flags.includes("UP"), l.linkinfo?.info_kind ?? null]);
    const addrs = JSON.parse(await inRemote("ip", "-json", "addr", "show")).map((l: any) =>
        [l.ifname, (l.addr_info ?? []).filter((a: any) => !/^fe80:/.test(a.local)).map((a: any) => `${a.local}/${a.prefixlen}`)]);
    const routes = (await inRemote("ip", "route", "show", "table", "all")).split("\n").filter((l) => !/fe80|^local fe|^multicast/.test(l)).sort();
    // Empty tables with ACCEPT policies are what iptables-nft leaves after the last rule of a table goes.
    const save = (await inRemote("iptables-save")).split("\n").filter((l) => !l.startsWith("#")).join("\n").replace(/\[\d+:\d+\]/g, "")
        .replace(/^\*\w+\n(?::[A-Z]+ ACCEPT \n)*COMMIT\n?/gm, "");
    const sysctls = await inRemote("sysctl", "-n", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding");
    const netns = (await inRemote("ip", "netns", "list")).split("\n").sort();
    return JSON.stringify({ netns, links: links.sort(), addrs: addrs.sort(), routes, iptables: save, sysctls }, null, 1);
}

/** One ICMP echo from a namespace on the remote host; true if answered. */
export async function pingRemote(sshd: Sshd, from: string, to: string): Promise<boolean> {
    return sshd.exec(["ip", "netns", "exec", from, "ping", "-n", "-c1", "-W1", to]).then(() => true, () => false);
}
