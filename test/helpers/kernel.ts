/**
 * Kernel-state readers for tests: what `ip`, `iptables-save`, `sysctl` and
 * `ping` report, independent of provider code. argv arrays only, no shell.
 */
import { execFile, spawn } from "child_process";
import * as fs from "fs";
import { randomBytes } from "crypto";
import { promisify } from "util";
import { assertSandbox } from "./sandbox";

const execFileP = promisify(execFile);

export interface ShOptions {
    /** Milliseconds before the command is killed (default 20000). */
    timeoutMs?: number;
    env?: NodeJS.ProcessEnv;
}

/** Runs argv; resolves stdout, rejects with an Error carrying the command and stderr. */
export async function sh(argv: string[], opts: ShOptions = {}): Promise<string> {
    const [cmd, ...args] = argv;
    try {
        const { stdout } = await execFileP(cmd, args, {
            timeout: opts.timeoutMs ?? 20000,
            env: opts.env ?? process.env,
            maxBuffer: 64 * 1024 * 1024,
            encoding: "utf8",
        });
        return stdout;
    } catch (e) {
        const err = e as { stderr?: string; code?: unknown; message: string };
        throw new Error(`command failed (${String(err.code)}): ${argv.join(" ")}\n${(err.stderr ?? err.message).trim()}`);
    }
}

/** Runs argv; true on exit status 0. */
export async function shOk(argv: string[], opts: ShOptions = {}): Promise<boolean> {
    try {
        await sh(argv, opts);
        return true;
    } catch {
        return false;
    }
}

/** Unique short name: prefix + 6 hex chars (e.g. "t3fa09c"). */
export function freshNetnsName(prefix = "t"): string {
    return prefix + randomBytes(3).toString("hex");
}

/** Unique interface name of at most 15 chars (IFNAMSIZ-1): prefix (cut to 7) + 8 hex chars. */
export function uniqueIfName(prefix = "v"): string {
    return prefix.slice(0, 7) + randomBytes(4).toString("hex");
}

/** A fresh netns per test: `ip netns add` in beforeEach, `ip netns del` in afterEach. Call inside a describe. */
export function withFreshNetns(prefix = "t"): { readonly name: string } {
    let current: string | undefined;
    beforeEach(async () => {
        assertSandbox();
        current = freshNetnsName(prefix);
        await sh(["ip", "netns", "add", current]);
    });
    afterEach(async () => {
        if (current !== undefined && (await netnsList()).includes(current)) {
            await sh(["ip", "netns", "del", current]);
        }
        current = undefined;
    });
    return {
        get name(): string {
            if (current === undefined) throw new Error("withFreshNetns: name used outside a test");
            return current;
        },
    };
}

/** Prefix for `ip` commands targeting an optional netns. */
export function ipArgs(netns?: string): string[] {
    return netns ? ["ip", "-n", netns] : ["ip"];
}

/** Prefix to run an arbitrary command in an optional netns. */
export function inNs(netns: string | undefined, argv: string[]): string[] {
    return netns ? ["ip", "netns", "exec", netns, ...argv] : argv;
}

/** Parses `ip -json` output; empty output means []. */
function parseJson<T>(text: string): T[] {
    const t = text.trim();
    return t === "" ? [] : (JSON.parse(t) as T[]);
}

/** One entry of `ip -json -d link show` (subset typed; the rest is kept). */
export interface IpLink {
    ifindex: number;
    ifname: string;
    flags: string[];
    mtu: number;
    operstate: string;
    master?: string;
    ifalias?: string;
    address?: string;
    link?: string;
    link_netnsid?: number;
    linkinfo?: { info_kind?: string; info_data?: Record<string, unknown>; info_slave_kind?: string };
    [k: string]: unknown;
}

/** `ip [-n NS] -json -d link show`. */
export async function links(netns?: string): Promise<IpLink[]> {
    return parseJson<IpLink>(await sh([...ipArgs(netns), "-json", "-d", "link", "show"]));
}

/** One link by name, or undefined if absent. */
export async function link(name: string, netns?: string): Promise<IpLink | undefined> {
    return (await links(netns)).find((l) => l.ifname === name);
}

interface AddrInfo { family: string; local: string; prefixlen: number; scope?: string }

function isLinkLocal6(a: AddrInfo): boolean {
    return a.family === "inet6" && /^fe[89ab][0-9a-f]:/i.test(a.local);
}

/** "addr/prefixlen" strings on a device (IPv6 link-local excluded); [] if the device is absent. */
export async function addrs(name: string, netns?: string): Promise<string[]> {
    if (!(await link(name, netns))) return [];
    const out = parseJson<{ addr_info?: AddrInfo[] }>(await sh([...ipArgs(netns), "-json", "addr", "show", "dev", name]));
    return out.flatMap((l) => l.addr_info ?? []).filter((a) => !isLinkLocal6(a)).map((a) => `${a.local}/${a.prefixlen}`);
}

/** One entry of `ip -json route show`. */
export interface IpRoute {
    dst: string;
    gateway?: string;
    dev?: string;
    protocol?: string;
    scope?: string;
    prefsrc?: string;
    metric?: number;
    table?: string;
    type?: string;
    flags?: string[];
    [k: string]: unknown;
}

/** `ip [-n NS] -json [-4|-6] route show [table T]` (default family 4). */
export async function routes(netns?: string, opts: { family?: 4 | 6; table?: string | number } = {}): Promise<IpRoute[]> {
    const argv = [...ipArgs(netns), "-json", `-${opts.family ?? 4}`, "route", "show"];
    if (opts.table !== undefined) argv.push("table", String(opts.table));
    return parseJson<IpRoute>(await sh(argv));
}

/** Names from `ip -json netns list` (empty output = none). */
export async function netnsList(): Promise<string[]> {
    return parseJson<{ name: string }>(await sh(["ip", "-json", "netns", "list"])).map((n) => n.name);
}

/**
 * The kernel's cookie of namespace NS (`SO_NETNS_COOKIE` of a socket made in it): what tells a
 * namespace made again from the old one. A namespace's inode does not: the kernel reuses it once
 * the old namespace is freed.
 */
export async function netnsCookie(netns: string): Promise<string> {
    const read = "import socket, struct; print(struct.unpack('Q', socket.socket().getsockopt(socket.SOL_SOCKET, 71, 8))[0])";
    return (await sh(inNs(netns, ["python3", "-c", read]))).trim();
}

function stripComments(text: string): string {
    // Packet counters ([packets:bytes]) change with traffic, not with configuration.
    return text.split("\n").filter((l) => !l.startsWith("#")).join("\n").replace(/\[\d+:\d+\]/g, "[0:0]");
}

/** `iptables-save` (in NS via `ip netns exec`), '#' comment lines (timestamps) removed, counters zeroed. */
export async function iptablesSave(netns?: string): Promise<string> {
    return stripComments(await sh(inNs(netns, ["iptables-save"])));
}

/** `ip6tables-save`, comment lines removed. */
export async function ip6tablesSave(netns?: string): Promise<string> {
    return stripComments(await sh(inNs(netns, ["ip6tables-save"])));
}

/** `sysctl -n KEY` (in NS via `ip netns exec`), trimmed. */
export async function sysctl(key: string, netns?: string): Promise<string> {
    return (await sh(inNs(netns, ["sysctl", "-n", key]))).trim();
}

/** One ICMP echo (`ping -c1 -W1`) from a netns (or the current one if undefined); true if answered. */
export async function ping(fromNetns: string | undefined, address: string): Promise<boolean> {
    return shOk(inNs(fromNetns, ["ping", "-n", "-c1", "-W1", address]), { timeoutMs: 5000 });
}

/** Every `pingChecks` entry of a program's outputs answers (a few tries while links settle). */
export async function assertPings(outputs: Record<string, unknown>, label = "program"): Promise<void> {
    const checks = outputs.pingChecks as { from: string; to: string }[] | undefined;
    if (!Array.isArray(checks) || checks.length === 0) throw new Error(`${label} exports no pingChecks`);
    for (const c of checks) {
        let ok = false;
        for (let i = 0; i < 5 && !ok; i++) ok = await ping(c.from, c.to);
        if (!ok) throw new Error(`${label}: ping from ${c.from} to ${c.to} failed`);
    }
}

/** Every folder and file under /etc/netns (the namespaces' own /etc files), with each file's text. */
export function etcNetnsFiles(): Record<string, string | null> {
    const out: Record<string, string | null> = {};
    for (const entry of (fs.existsSync("/etc/netns") ? fs.readdirSync("/etc/netns", { recursive: true }) : []).map(String).sort()) {
        const file = `/etc/netns/${entry}`;
        out[entry] = fs.statSync(file).isDirectory() ? null : fs.readFileSync(file, "utf8");
    }
    return out;
}

/**
 * Deterministic text describing the current (sandbox root) namespace: netns list,
 * links (name, alias, master, mtu, state, kind), addresses, v4/v6 routes of all
 * tables, iptables/ip6tables rules, /etc/netns and forwarding sysctls. Compare before/after.
 */
export async function snapshotHost(): Promise<string> {
    const ls = (await links()).map((l) => ({
        ifname: l.ifname, ifalias: l.ifalias ?? null, master: l.master ?? null, mtu: l.mtu,
        operstate: l.operstate, flags: l.flags, kind: l.linkinfo?.info_kind ?? null,
    }));
    const addrText = parseJson<{ ifname: string; addr_info?: AddrInfo[] }>(await sh(["ip", "-json", "addr", "show"]))
        .map((l) => ({ ifname: l.ifname, addrs: (l.addr_info ?? []).filter((a) => !isLinkLocal6(a)).map((a) => `${a.local}/${a.prefixlen}`).sort() }));
    const routesAll = async (fam: 4 | 6) =>
        parseJson<Record<string, unknown>>(await sh(["ip", "-json", `-${fam}`, "route", "show", "table", "all"]))
            // IPv6 link-local addresses (and their local routes) appear a moment after a link comes up.
            .filter((r) => !/^fe[89ab][0-9a-f]:/i.test(String(r.dst)) || r.dst === "fe80::/64")
            .map((r) => { const { expires: _e, ...rest } = r; return JSON.stringify(rest); }).sort();
    const snapshot = {
        netns: (await netnsList()).sort(),
        links: ls.sort((a, b) => a.ifname.localeCompare(b.ifname)),
        addrs: addrText.sort((a, b) => a.ifname.localeCompare(b.ifname)),
        routes4: await routesAll(4),
        routes6: await routesAll(6),
        iptables: await iptablesSave(),
        ip6tables: await ip6tablesSave(),
        etcNetns: etcNetnsFiles(),
        sysctls: {
            "net.ipv4.ip_forward": await sysctl("net.ipv4.ip_forward"),
            "net.ipv4.conf.all.forwarding": await sysctl("net.ipv4.conf.all.forwarding"),
            "net.ipv6.conf.all.forwarding": await sysctl("net.ipv6.conf.all.forwarding"),
        },
    };
    return JSON.stringify(snapshot, null, 1);
}

/** Mbit/s an iperf3 server in `to` (on `server`) receives from a 2 s iperf3 client in `from`. */
export async function iperf3(from: string, to: string, server: string): Promise<number> {
    const srv = spawn("ip", ["netns", "exec", to, "iperf3", "-s", "-1", "-B", server], { stdio: "ignore" });
    try {
        await new Promise((r) => setTimeout(r, 400));
        const out = JSON.parse(await sh(["ip", "netns", "exec", from, "iperf3", "-c", server, "-t", "2", "-J"], { timeoutMs: 20000 }));
        return out.end.sum_received.bits_per_second / 1e6;
    } finally {
        srv.kill();
    }
}
