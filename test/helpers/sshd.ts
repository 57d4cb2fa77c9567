/**
 * Other hosts for remote tests. Each is a network namespace (its own network stack: `remote` at
 * 10.77.0.2 by default) and a mount namespace of its own, with private /run (so /run/netns and the
 * markers under /run/pulumi-netns) and /etc/netns: two hosts' `ip netns` never see each other's
 * namespaces, nor the sandbox's, as two machines would not. Each runs Debian's sshd listening only on
 * its address, with a host key and a client key generated for it in a temp directory; the client
 * side never reads or writes /root/.ssh: the connection carries the host key and the key. Every host
 * is on one underlay, a bridge `sshbr0` of the sandbox root holding 10.77.0.1/24 (each host's
 * `eth0` on a veth whose other end is a port of it), so the hosts reach each other and the sandbox
 * reaches them all.
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
/** The sandbox's side of the hosts' underlay. */
export const UNDERLAY_BRIDGE = "sshbr0";
export const UNDERLAY_ADDRESS = "10.77.0.1";

/** Which host to start: its network namespace and its address on the underlay (10.77.0.2–254). */
export interface HostOptions {
    netns?: string;
    address?: string;
}

export interface Sshd {
    /** The host's network namespace (as the sandbox names it) and its address on the underlay. */
    netns: string;
    address: string;
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
     * (`nsenter -t PID -m -n`). Namespaces made over ssh are in the host's own /run/netns, so `ip
     * netns …` and `ip -n NS …` for them work only through this (the sandbox sees only the host's
     * own network namespace, by the name {@link Sshd.netns}).
     */
    exec(argv: string[]): Promise<string>;
    /** Starts a long-running argv (a server) on the host, as {@link exec} does; it dies with the host at the latest. */
    spawn(argv: string[]): ChildProcess;
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

/** The hosts running (the underlay bridge and the sandbox's bashrc mount go with the last). */
const running = new Set<string>();

/**
 * Starts a host and its sshd (default: `remote` at 10.77.0.2); several may run at once, each with
 * its own namespace and address. Only inside the sandbox (private /run, network and mounts).
 */
export async function startSshd(opts: HostOptions = {}): Promise<Sshd> {
    assertSandbox();
    const netns = opts.netns ?? REMOTE_NETNS;
    const address = opts.address ?? REMOTE_ADDRESS;
    const octet = Number(address.split(".")[3]);
    if (!address.startsWith("10.77.0.") || !(octet >= 2 && octet <= 254)) throw new Error(`startSshd: ${address} is not a host address of the underlay 10.77.0.0/24`);
    if (running.has(netns)) throw new Error(`startSshd: host ${netns} is already running`);
    const sideVeth = `sshv${octet - 2}`; // sshv0 for 10.77.0.2
    const first = running.size === 0;
    running.add(netns);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-sshd-"));
    for (const argv of [
        ...(first
            ? [
                  ["ip", "link", "add", "name", UNDERLAY_BRIDGE, "type", "bridge"],
                  ["ip", "addr", "add", `${UNDERLAY_ADDRESS}/24`, "dev", UNDERLAY_BRIDGE],
                  ["ip", "link", "set", UNDERLAY_BRIDGE, "up"],
              ]
            : []),
        ["ip", "netns", "add", netns],
        ["ip", "-n", netns, "link", "set", "lo", "up"],
        ["ip", "link", "add", sideVeth, "type", "veth", "peer", "name", "eth0", "netns", netns],
        ["ip", "link", "set", sideVeth, "master", UNDERLAY_BRIDGE, "up"],
        ["ip", "-n", netns, "addr", "add", `${address}/24`, "dev", "eth0"],
        ["ip", "-n", netns, "link", "set", "eth0", "up"],
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", `test-host-${netns}`, "-f", path.join(dir, "host_key")],
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-client", "-f", path.join(dir, "client_key")],
    ]) await sh(argv);
    const read = (f: string) => fs.readFileSync(path.join(dir, f), "utf8");
    fs.writeFileSync(path.join(dir, "authorized_keys"), read("client_key.pub"), { mode: 0o600 });
    const config = writeSshdConfig(dir, [address]);
    fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // for sshds a test starts in the sandbox's own mount namespace (test/remote/proxyjump's target)
    // Debian's bash sources ~/.bashrc for every command run over ssh; this machine's (pyenv init) costs
    // ~120 ms a command. Inside the sandbox's private mount namespace only (and so every host's, made
    // from it), an empty file hides it (the machine's file is untouched); real hosts pay whatever their
    // shell startup costs.
    if (first && fs.existsSync("/root/.bashrc")) {
        fs.writeFileSync(path.join(dir, "bashrc"), "");
        await sh(["mount", "--bind", path.join(dir, "bashrc"), "/root/.bashrc"]);
    }
    // The log goes to a file, not a pipe of ours: sshd's session processes inherit it and may outlive
    // the listener (while a client's master connection persists), which would keep this process alive.
    const log = path.join(dir, "sshd.log");
    // The host's own mount namespace (a copy of the sandbox's, then private): /run and /etc/netns are
    // its own, empty, with the privilege separation directory sshd needs. Every exec keeps the pid.
    const boot = [
        "mount -t tmpfs -o mode=0755 tmpfs-host /run",
        "mkdir -p /run/netns /run/sshd",
        "mount -t tmpfs -o mode=0755 tmpfs-host /etc/netns",
        'exec /usr/sbin/sshd -D -E "$1" -f "$2"',
    ].join(" && ");
    const child: ChildProcess = spawn("ip", ["netns", "exec", netns, "unshare", "--mount", "--propagation", "private", "sh", "-c", boot, "sh", log, config], { stdio: "ignore" });
    const stopHost = async () => {
        if (child.exitCode === null && child.signalCode === null) {
            child.kill();
            await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once("exit", r)));
        }
        // Session processes of connections still open (ssh masters persist a while): every process of the host goes.
        for (const pid of (await sh(["ip", "netns", "pids", netns]).catch(() => "")).split("\n").filter(Boolean)) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                // already gone
            }
        }
        await sh(["ip", "link", "del", sideVeth]).catch(() => undefined);
        await sh(["ip", "netns", "del", netns]).catch(() => undefined);
        running.delete(netns);
        if (running.size === 0) {
            await sh(["ip", "link", "del", UNDERLAY_BRIDGE]).catch(() => undefined);
            await sh(["umount", "/root/.bashrc"]).catch(() => undefined);
        }
        fs.rmSync(dir, { recursive: true, force: true });
    };
    try {
        await waitForPort(address, 22);
        // The kernel reports the bridge's carrier a moment after its port (UNKNOWN, then UP): a test's
        // snapshot taken before that would differ from one taken after for no change of the test's.
        for (let i = 0; JSON.parse(await sh(["ip", "-json", "link", "show", UNDERLAY_BRIDGE]))[0].operstate !== "UP"; i++) {
            if (i === 100) throw new Error(`startSshd: ${UNDERLAY_BRIDGE} did not come up`);
            await new Promise((r) => setTimeout(r, 50));
        }
    } catch (err) {
        const text = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
        await stopHost();
        throw new Error(`${(err as Error).message}: ${text}`);
    }
    const hostKey = read("host_key.pub").trim();
    const privateKey = read("client_key");
    const enter = (argv: string[]) => ["nsenter", "-t", String(child.pid), "-m", "-n", "--", ...argv];
    return {
        netns,
        address,
        connection: { host: address, user: "root", privateKey, hostKey },
        hostKey,
        privateKey,
        publicKey: read("client_key.pub").trim(),
        dir,
        exec: (argv) => sh(enter(argv)),
        spawn: (argv) => {
            const [cmd, ...rest] = enter(argv);
            return spawn(cmd, rest, { stdio: "ignore" });
        },
        stop: stopHost,
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
