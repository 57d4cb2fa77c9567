/**
 * Every example (examples/<name>/ with Pulumi.yaml + index.ts) through the engine double:
 * up → each `pingChecks` entry answers → preview shows no changes → refresh shows no drift →
 * destroy → the sandbox root is as before. Examples needing config get it from SETUP.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "../helpers/host";
import { ping, sh, snapshotHost } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { Stack, type OpResult } from "../engine/stack";

const EXAMPLES = path.join(REPO_ROOT, "examples");
const EXPECTED = ["blue-bridge", "nat-gateway", "veth-direct", "bridge-lan", "router-namespace"];

interface Setup {
    config?: Record<string, unknown>;
    /** Runs before the "before" snapshot; `down` after the final snapshot comparison. */
    up?: () => Promise<void>;
    down?: () => Promise<void>;
}

/**
 * nat-gateway: the sandbox has no uplink, so `up0` plays it: a veth to a `wan` namespace
 * (203.0.113.1/24) with no route back to the LAN, so the probe answers only through the NAT.
 */
const SETUP: Record<string, Setup> = {
    "nat-gateway": {
        config: { outInterface: "up0", probe: "203.0.113.1" },
        async up() {
            for (const argv of [
                ["ip", "netns", "add", "wan"],
                ["ip", "-n", "wan", "link", "set", "lo", "up"],
                ["ip", "link", "add", "up0", "type", "veth", "peer", "name", "eth0", "netns", "wan"],
                ["ip", "addr", "add", "203.0.113.2/24", "dev", "up0"],
                ["ip", "link", "set", "up0", "up"],
                ["ip", "-n", "wan", "addr", "add", "203.0.113.1/24", "dev", "eth0"],
                ["ip", "-n", "wan", "link", "set", "eth0", "up"],
            ]) await sh(argv);
        },
        async down() {
            await sh(["ip", "link", "del", "up0"]);
            await sh(["ip", "netns", "del", "wan"]);
        },
    },
};

/** Example directories with a Pulumi.yaml and an index.ts. */
function examples(): string[] {
    if (!fs.existsSync(EXAMPLES)) return [];
    return fs.readdirSync(EXAMPLES).filter((d) =>
        fs.existsSync(path.join(EXAMPLES, d, "Pulumi.yaml")) && fs.existsSync(path.join(EXAMPLES, d, "index.ts"))).sort();
}

/**
 * snapshotHost() minus iptables tables that are empty with ACCEPT policies: iptables-nft creates a
 * table the first time a command touches it, and deleting our rules (rightly) leaves the table.
 */
async function snapshot(): Promise<string> {
    const s = JSON.parse(await snapshotHost()) as Record<string, unknown>;
    const drop = (save: string) => save.replace(/^\*\w+\n(?::[A-Z]+ ACCEPT \[\d+:\d+\]\n)*COMMIT\n/gm, "");
    return JSON.stringify({ ...s, iptables: drop(s.iptables as string), ip6tables: drop(s.ip6tables as string) }, null, 1);
}

const notSame = (r: OpResult) => r.steps.filter((s) => s.op !== "same" && s.op !== "refresh")
    .map((s) => `${s.op} ${s.name}${s.diffs ? ` (${s.diffs.join(", ")})` : ""}`);

describePrivileged("examples through the engine double", function () {
    this.timeout(180000);
    const found = examples();

    for (const name of EXPECTED.filter((n) => !found.includes(n))) {
        it.skip(`${name}: SKIPPED, examples/${name}/ (Pulumi.yaml + index.ts) is not present`);
    }

    for (const name of found) {
        it(`${name}: up → pings → preview no changes → refresh no drift → destroy restores the host`, async () => {
            const setup = SETUP[name] ?? {};
            await setup.up?.();
            const stack = new Stack({ program: path.join(EXAMPLES, name), config: setup.config });
            try {
                const before = await snapshot();
                const up = await stack.up();
                assert.ok(up.steps.some((s) => s.op === "create"), "up created nothing");
                const checks = up.outputs.pingChecks as { from: string; to: string }[] | undefined;
                if (checks === undefined) console.warn(`      (${name} exports no pingChecks)`);
                for (const c of checks ?? []) {
                    let ok = false;
                    for (let i = 0; i < 5 && !ok; i++) ok = await ping(c.from, c.to);
                    assert.ok(ok, `${name}: ping from ${c.from} to ${c.to} failed`);
                }
                assert.deepEqual(notSame(await stack.preview()), [], `${name}: preview after up`);
                assert.deepEqual(notSame(await stack.refresh()), [], `${name}: refresh after up`);
                await stack.destroy();
                assert.deepEqual(stack.state, {});
                assert.equal(await snapshot(), before, `${name}: destroy left the host changed`);
            } finally {
                if (Object.keys(stack.state).length > 0) await stack.destroy().catch((e: Error) => console.error(e.message));
                await setup.down?.();
            }
        });
    }
});
