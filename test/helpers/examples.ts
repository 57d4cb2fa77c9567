/**
 * The examples of examples/ as test/e2e/ runs them through the real CLI: which exist, the host
 * each needs, and a snapshot of the sandbox root to compare before and after.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import type { StateResource } from "../e2e/cli";
import { haveDnsmasq, startDnsServer } from "./dns";
import { REPO_ROOT } from "./host";
import { inNs, iperf3, iptablesSave, sh, shOk, snapshotHost } from "./kernel";
import { haveSshd, pingRemote, REMOTE_ADDRESS, snapshotRemote, startSshd, UNDERLAY_ADDRESS, UNDERLAY_BRIDGE, type Sshd } from "./sshd";

export const EXAMPLES = path.join(REPO_ROOT, "examples");
/** The examples the suites expect (one missing is a loud skip). */
export const EXPECTED_EXAMPLES = ["blue-bridge", "nat-gateway", "veth-direct", "bridge-lan", "router-namespace", "gitops", "macvlan", "vxlan", "port-forward", "rate-limit", "multihost"];

/** A change made by hand behind the stack's back, and how to tell from the kernel that it is undone. */
export interface Drift {
    what: string;
    repaired: () => Promise<boolean>;
}

export interface ExampleSetup {
    /** A tool the example needs: without it the test is skipped (a failure under CI=true). */
    needs?: { ok: () => boolean; what: string };
    config?: Record<string, unknown>;
    /** Config values known once `up` ran, set as secrets (`pulumi config set --secret`, the value on stdin, never on a command line). */
    secrets?: () => Record<string, unknown>;
    /** Runs before the "before" snapshot; `down` after the final snapshot comparison. */
    up?: () => Promise<void>;
    down?: () => Promise<void>;
    /** Proves, with real traffic, what the example claims beyond its pings; run after each round of pings. */
    check?: (outputs: Record<string, unknown>) => Promise<void>;
    /** Drift made by hand where the e2e suite's own drift (in the sandbox root) does not reach: on another host. */
    drift?: (resources: StateResource[]) => Promise<Drift[]>;
    /** The other hosts the example changes, described (compared before `up` and after `destroy`, as the sandbox root is). */
    snapshot?: () => Promise<string>;
}

/** multihost's peer: a sandboxed sshd host (remote, 10.77.0.2) on the underlay bridge of the sandbox root (10.77.0.1). */
let peer: Sshd | undefined;
const onPeer = () => {
    if (!peer) throw new Error("multihost: the peer host is not running");
    return peer;
};
const fdbJson = async (run: (argv: string[]) => Promise<string>, dev: string) => JSON.parse((await run(["bridge", "-json", "fdb", "show", "dev", dev])) || "[]") as { mac: string; dst?: string }[];
/** The flood list of a VXLAN device, as `run` (here or on the peer) reads it from the kernel. */
const floodOf = async (run: (argv: string[]) => Promise<string>, dev: string) => (await fdbJson(run, dev)).filter((e) => e.mac === "00:00:00:00:00:00").map((e) => e.dst).sort();
/** Packets the VXLAN device of this host received. */
const rxOf = async (dev: string) => JSON.parse(await sh(["ip", "-json", "-s", "link", "show", dev]))[0].stats64.rx.packets as number;

/**
 * A namespace standing for another machine behind a veth of the sandbox root: `hostDev` here (with
 * `hostCidr` if given, up), `eth0` in `netns` with `farCidr` (up), and a default route via `via`.
 */
async function farNamespace(netns: string, hostDev: string, hostCidr: string | undefined, farCidr: string, extra: { loUp?: boolean; via?: string } = {}): Promise<void> {
    for (const argv of [
        ["ip", "netns", "add", netns],
        ...(extra.loUp ? [["ip", "-n", netns, "link", "set", "lo", "up"]] : []),
        ["ip", "link", "add", hostDev, "type", "veth", "peer", "name", "eth0", "netns", netns],
        ...(hostCidr ? [["ip", "addr", "add", hostCidr, "dev", hostDev]] : []),
        ["ip", "link", "set", hostDev, "up"],
        ["ip", "-n", netns, "addr", "add", farCidr, "dev", "eth0"],
        ["ip", "-n", netns, "link", "set", "eth0", "up"],
        ...(extra.via ? [["ip", "-n", netns, "route", "add", "default", "via", extra.via]] : []),
    ]) await sh(argv);
}

/** The uplink of nat-gateway in the sandbox: `up0`, a veth to namespace `wan` (203.0.113.1/24). */
export const WAN_PROBE = "203.0.113.1";
/** A made-up name the DNS server in `wan` answers with {@link WAN_PROBE}. */
export const WAN_PROBE_NAME = "wan.example.test";

let wanDns: { stop: () => Promise<void> } | undefined;

/**
 * nat-gateway: the sandbox has no uplink, so `up0` plays it: a veth to a `wan` namespace
 * (203.0.113.1/24) with no route back to the LAN, so the probe answers only through the NAT; and
 * a real DNS server (dnsmasq) there, the namespace's nameserver, which resolves the probe's name.
 */
export const EXAMPLE_SETUP: Record<string, ExampleSetup> = {
    // multihost: the peer is a sandboxed sshd host (test/helpers/sshd.ts: network and mount namespaces of its
    // own, `remote` at 10.77.0.2 on eth0), whose underlay is the sandbox root's bridge sshbr0 (10.77.0.1).
    multihost: {
        needs: { ok: haveSshd, what: "openssh-server (/usr/sbin/sshd)" },
        config: { underlay: UNDERLAY_ADDRESS, underlayDevice: UNDERLAY_BRIDGE, peerUnderlay: REMOTE_ADDRESS, peerUnderlayDevice: "eth0" },
        up: async () => {
            peer = await startSshd();
            // The underlay bridge's operstate goes from UNKNOWN to UP once its port forwards: wait for it (the "before" snapshot holds it).
            for (const deadline = Date.now() + 5000; JSON.parse(await sh(["ip", "-json", "link", "show", UNDERLAY_BRIDGE]))[0].operstate !== "UP"; ) {
                if (Date.now() > deadline) throw new Error(`multihost: ${UNDERLAY_BRIDGE} did not come up`);
                await new Promise((r) => setTimeout(r, 50));
            }
        },
        secrets: () => ({ peerConnection: onPeer().connection }),
        check: async (outputs) => {
            const host = onPeer();
            const vx = String(outputs.vxlanName);
            // The kernel of each host: one flood entry, to the other host's underlay address.
            const [ours, theirs] = [await floodOf(sh, vx), await floodOf(host.exec, vx)];
            if (JSON.stringify(ours) !== JSON.stringify([REMOTE_ADDRESS]) || JSON.stringify(theirs) !== JSON.stringify([UNDERLAY_ADDRESS])) {
                throw new Error(`multihost: flood lists ${JSON.stringify(ours)} here and ${JSON.stringify(theirs)} on the peer, not each other's underlay`);
            }
            // The peer's members reach every other member and the gateway; those on this host through its tunnel, which counts them.
            const checks = outputs.peerPingChecks as { from: string; to: string }[];
            const addresses = outputs.addresses as Record<string, string>;
            const across = checks.filter((c) => !checks.some((o) => addresses[o.from] === c.to)).length;
            const before = await rxOf(vx);
            for (const c of checks) {
                let ok = false;
                for (let i = 0; i < 5 && !ok; i++) ok = await pingRemote(host, c.from, c.to);
                if (!ok) throw new Error(`multihost: ping from ${c.from} (on the peer) to ${c.to} failed`);
            }
            if (!(across > 0) || (await rxOf(vx)) < before + across) throw new Error(`multihost: the peer's ${across} pings to this host did not arrive through its VXLAN device ${vx}`);
        },
        drift: async (resources) => {
            // On the peer (its resources carry a connection): its flood entry to this host deleted, and a member's address removed.
            const host = onPeer();
            const drifts: Drift[] = [];
            let addressRemoved = false;
            for (const r of resources.filter((x) => x.outputs?.connection !== undefined)) {
                const o = r.outputs!;
                if (r.type.endsWith(":Vxlan")) {
                    const dev = String(o.name);
                    await host.exec(["bridge", "fdb", "del", "00:00:00:00:00:00", "dev", dev, "dst", UNDERLAY_ADDRESS, "self"]);
                    drifts.push({ what: `the peer's flood entry of ${dev} to ${UNDERLAY_ADDRESS}`, repaired: async () => (await floodOf(host.exec, dev)).includes(UNDERLAY_ADDRESS) });
                }
                if (r.type.endsWith(":VethPair") && !addressRemoved) {
                    addressRemoved = true;
                    const [address, dev, ns] = [String((o.peerAddresses as string[])[0]), String(o.peerName), String(o.peerNetns)];
                    await host.exec(["ip", "-n", ns, "address", "del", address, "dev", dev]);
                    const has = async () => (JSON.parse(await host.exec(["ip", "-n", ns, "-json", "address", "show", "dev", dev]))[0].addr_info as { local: string; prefixlen: number }[]).some((a) => `${a.local}/${a.prefixlen}` === address);
                    drifts.push({ what: `address ${address} of ${dev} in ${ns} on the peer`, repaired: has });
                }
            }
            if (drifts.length !== 2) throw new Error(`multihost: the state has not the peer's Vxlan and VethPairs (with their connection): ${drifts.map((d) => d.what).join(", ")}`);
            return drifts;
        },
        snapshot: () => snapshotRemote(onPeer()),
        down: async () => {
            await peer?.stop();
            peer = undefined;
        },
    },
    // vxlan: the underlay is `vxup0` (10.50.0.1/24), a veth to namespace `vxfar`, the "other host"
    // (10.50.0.2), which has a VXLAN end of its own made by hand, holding 10.60.0.254/24 of the LAN.
    vxlan: {
        config: { device: "vxup0", local: "10.50.0.1", remote: "10.50.0.2", probe: "10.60.0.254" },
        up: async () => {
            await farNamespace("vxfar", "vxup0", "10.50.0.1/24", "10.50.0.2/24");
            for (const argv of [
                ["ip", "-n", "vxfar", "link", "add", "vx0", "type", "vxlan", "id", "4242", "local", "10.50.0.2", "remote", "10.50.0.1", "dev", "eth0", "dstport", "4789"],
                ["ip", "-n", "vxfar", "addr", "add", "10.60.0.254/24", "dev", "vx0"],
                ["ip", "-n", "vxfar", "link", "set", "vx0", "up"],
            ]) await sh(argv);
        },
        check: async () => {
            // The probe's replies came through the tunnel: the far end's VXLAN device counted them
            // (the overlay's 10.60.0.0/24 has no other way to vxfar).
            const rx = async () => (JSON.parse(await sh(["ip", "-n", "vxfar", "-json", "-s", "link", "show", "vx0"]))[0].stats64.rx.packets as number);
            const before = await rx();
            if (!(await shOk(["ip", "netns", "exec", "lab1", "ping", "-c", "3", "-i", "0.2", "-W", "2", "10.60.0.254"]))) throw new Error("vxlan: lab1 does not reach 10.60.0.254 across the tunnel");
            if ((await rx()) < before + 3) throw new Error("vxlan: the pings did not arrive through vxfar's VXLAN device");
        },
        down: async () => {
            await sh(["ip", "link", "del", "vxup0"]);
            await sh(["ip", "netns", "del", "vxfar"]);
        },
    },
    // rate-limit: iperf3 (kernel.ts, as test/resources/veth.test.ts measures) both ways, within ±25% of the limit.
    "rate-limit": {
        check: async (outputs) => {
            const limit = Number(/^(\d+)mbit$/.exec(String(outputs.limit))?.[1]);
            for (const [from, to, server] of [["slow-a", "slow-b", "10.73.0.2"], ["slow-b", "slow-a", "10.73.0.1"]]) {
                const mbit = await iperf3(from, to, server);
                if (!(mbit > limit * 0.75 && mbit < limit * 1.25)) throw new Error(`rate-limit: ${from} → ${to} ran at ${mbit.toFixed(1)} Mbit/s, not within 25% of ${limit}`);
            }
        },
    },
    // port-forward: a client namespace `pfclient` (10.71.0.2/24) on a veth to the host's 10.71.0.1,
    // standing for another machine; the check serves a file from `web` and fetches it through the forward.
    "port-forward": {
        up: async () => {
            await farNamespace("pfclient", "pfc0", "10.71.0.1/24", "10.71.0.2/24", { via: "10.71.0.1" });
        },
        check: async (outputs) => {
            const token = `served-${process.pid}-${Date.now()}`;
            await withHttpServer("web", "10.72.0.2", 80, token, async () => {
                for (const [from, url] of [[undefined, String(outputs.url)], ["pfclient", "http://10.71.0.1:8080/"]] as const) {
                    const got = await sh(inNs(from, ["curl", "-sS", "--max-time", "3", `${url}token`])).catch((e: Error) => e.message);
                    if (got !== token) throw new Error(`port-forward: GET ${url}token from ${from ?? "the host"} answered ${JSON.stringify(got)}, not the server's file`);
                }
            });
        },
        down: async () => {
            await sh(["ip", "link", "del", "pfc0"]);
            await sh(["ip", "netns", "del", "pfclient"]);
        },
    },
    // macvlan: the uplink is `mvup0`, a veth whose far end (10.45.0.254/24) is in namespace `mvfar`.
    macvlan: {
        config: { parent: "mvup0", addresses: ["10.45.0.1/24", "10.45.0.2/24"], probe: "10.45.0.254" },
        up: () => farNamespace("mvfar", "mvup0", undefined, "10.45.0.254/24"),
        down: async () => {
            await sh(["ip", "link", "del", "mvup0"]);
            await sh(["ip", "netns", "del", "mvfar"]);
        },
    },
    "nat-gateway": {
        config: { outInterface: "up0", probe: WAN_PROBE, nameserver: WAN_PROBE, ...(haveDnsmasq() ? { probeName: WAN_PROBE_NAME } : {}) },
        up: async () => {
            await wanUp();
            if (haveDnsmasq()) wanDns = await startDnsServer("wan", WAN_PROBE, { [WAN_PROBE_NAME]: WAN_PROBE });
        },
        down: async () => {
            await wanDns?.stop();
            wanDns = undefined;
            await wanDown();
        },
    },
};

/**
 * Runs `fn` while python3's http.server serves, in namespace `ns` on address:port, a directory
 * holding one file, `token`, whose content is its name; stops the server afterwards.
 */
export async function withHttpServer(ns: string, address: string, port: number, token: string, fn: () => Promise<void>): Promise<void> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-http-"));
    fs.writeFileSync(path.join(dir, "token"), token);
    const server = spawn("ip", ["netns", "exec", ns, "/usr/bin/python3", "-m", "http.server", String(port), "--bind", address, "--directory", dir], { stdio: "ignore" });
    try {
        const url = `http://${address}:${port}/token`;
        for (let i = 0; i < 50 && !(await shOk(inNs(ns, ["curl", "-s", "--max-time", "1", "-o", "/dev/null", url]))); i++) await new Promise((r) => setTimeout(r, 100));
        await fn();
    } finally {
        server.kill("SIGKILL");
        await new Promise((r) => (server.exitCode !== null ? r(undefined) : server.once("exit", r)));
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

/** Makes the `wan` namespace behind `up0` (see EXAMPLE_SETUP). */
export async function wanUp(): Promise<void> {
    await farNamespace("wan", "up0", "203.0.113.2/24", `${WAN_PROBE}/24`, { loUp: true });
}

export async function wanDown(): Promise<void> {
    await sh(["ip", "link", "del", "up0"]);
    await sh(["ip", "netns", "del", "wan"]);
}

/** Example directories with a Pulumi.yaml and an index.ts. */
export function exampleNames(): string[] {
    if (!fs.existsSync(EXAMPLES)) return [];
    return fs.readdirSync(EXAMPLES).filter((d) =>
        fs.existsSync(path.join(EXAMPLES, d, "Pulumi.yaml")) && fs.existsSync(path.join(EXAMPLES, d, "index.ts"))).sort();
}

/**
 * snapshotHost() minus iptables tables that are empty with ACCEPT policies: iptables-nft creates a
 * table the first time a command touches it, and deleting our rules (rightly) leaves the table.
 */
export async function exampleSnapshot(): Promise<string> {
    const s = JSON.parse(await snapshotHost()) as Record<string, unknown>;
    const drop = (save: string) => save.replace(/^\*\w+\n(?::[A-Z]+ ACCEPT \[\d+:\d+\]\n)*COMMIT\n/gm, "");
    return JSON.stringify({ ...s, iptables: drop(s.iptables as string), ip6tables: drop(s.ip6tables as string) }, null, 1);
}

/** The sandbox with pulumi-netns' markers taken out: aliases, `proto 250`, owner comments; inside each namespace, its VXLAN devices' flood lists too. */
export async function withoutMarkers(netns: string[]): Promise<string> {
    const host = JSON.parse(await snapshotHost()) as Record<string, any>;
    const strip = (text: string) => text.replace(/ -m comment --comment "?pulumi-netns:[0-9a-f]{16}"?/g, "").replace(/^:(\S+) (\S+) \[\d+:\d+\]$/gm, ":$1 $2");
    const inside: Record<string, unknown> = {};
    for (const ns of netns) {
        const links = JSON.parse(await sh(["ip", "-n", ns, "-json", "address", "show"])) as any[];
        inside[ns] = {
            links: links.map((l) => ({ name: l.ifname, flags: l.flags, mtu: l.mtu, mac: l.address, addrs: (l.addr_info ?? []).filter((a: any) => a.scope !== "link").map((a: any) => `${a.local}/${a.prefixlen}`) })),
            routes: (JSON.parse(await sh(["ip", "-n", ns, "-json", "route", "show"])) as any[]).map(({ protocol: _p, ...r }) => r),
            iptables: strip(await iptablesSave(ns)),
            flood: (JSON.parse(await sh(["bridge", "-n", ns, "-json", "fdb", "show"])) as any[]).filter((e) => e.mac === "00:00:00:00:00:00").map((e) => `${e.ifname} ${e.dst}`).sort(),
        };
    }
    const links = (host.links as any[]).map(({ ifalias: _a, ...l }) => l);
    const routes = (r: string[]) => r.map((x) => x.replace(/,"protocol":"(250|boot|static)"/, ""));
    return JSON.stringify({ ...host, links, routes4: routes(host.routes4), routes6: routes(host.routes6), iptables: strip(host.iptables), inside }, null, 1);
}
