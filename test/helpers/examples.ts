/**
 * The examples of examples/ as test/e2e/ runs them through the real CLI: which exist, the host
 * each needs, and a snapshot of the sandbox root to compare before and after.
 */
import * as fs from "fs";
import * as path from "path";
import { haveDnsmasq, startDnsServer } from "./dns";
import { REPO_ROOT } from "./host";
import { sh, snapshotHost } from "./kernel";

export const EXAMPLES = path.join(REPO_ROOT, "examples");
/** The examples the suites expect (one missing is a loud skip). */
export const EXPECTED_EXAMPLES = ["blue-bridge", "nat-gateway", "veth-direct", "bridge-lan", "router-namespace", "gitops", "macvlan"];

export interface ExampleSetup {
    config?: Record<string, unknown>;
    /** Runs before the "before" snapshot; `down` after the final snapshot comparison. */
    up?: () => Promise<void>;
    down?: () => Promise<void>;
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
    // macvlan: the uplink is `mvup0`, a veth whose far end (10.45.0.254/24) is in namespace `mvfar`.
    macvlan: {
        config: { parent: "mvup0", addresses: ["10.45.0.1/24", "10.45.0.2/24"], probe: "10.45.0.254" },
        up: async () => {
            for (const argv of [
                ["ip", "netns", "add", "mvfar"],
                ["ip", "link", "add", "mvup0", "type", "veth", "peer", "name", "eth0", "netns", "mvfar"],
                ["ip", "link", "set", "mvup0", "up"],
                ["ip", "-n", "mvfar", "addr", "add", "10.45.0.254/24", "dev", "eth0"],
                ["ip", "-n", "mvfar", "link", "set", "eth0", "up"],
            ]) await sh(argv);
        },
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

/** Makes the `wan` namespace behind `up0` (see EXAMPLE_SETUP). */
export async function wanUp(): Promise<void> {
    for (const argv of [
        ["ip", "netns", "add", "wan"],
        ["ip", "-n", "wan", "link", "set", "lo", "up"],
        ["ip", "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", "wan"],
        ["ip", "addr", "add", "203.0.113.2/24", "dev", "up0"],
        ["ip", "link", "set", "up0", "up"],
        ["ip", "-n", "wan", "addr", "add", `${WAN_PROBE}/24`, "dev", "eth0"],
        ["ip", "-n", "wan", "link", "set", "eth0", "up"],
    ]) await sh(argv);
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
