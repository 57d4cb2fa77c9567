/**
 * The engine double (stack.ts) running real programs (test/engine/programs/*) against the real
 * dynamic-provider host: up / preview / refresh / destroy semantics, program changes, drift.
 */
import { strict as assert } from "assert";
import { addrs, assertPings, link, netnsList, ping, sh, snapshotHost } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { EngineError, Stack, type OpResult, type Step } from "./stack";

const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** "op name" of every step that is not "same"/"refresh", sorted; the stack root is left out. */
export function changed(r: OpResult): string[] {
    return r.steps.filter((s) => s.op !== "same" && s.op !== "refresh" && s.type !== "pulumi:pulumi:Stack")
        .map((s) => `${s.op} ${s.name}`).sort();
}

/** Index of the step with this op and name; fails if absent. */
function at(steps: Step[], op: string, name: string): number {
    const i = steps.findIndex((s) => s.op === op && s.name === name);
    assert.ok(i >= 0, `no ${op} step for ${name} in ${JSON.stringify(steps.map((s) => `${s.op} ${s.name}`))}`);
    return i;
}

describePrivileged("engine double: blue behind a bridge (up, preview, refresh, drift, destroy)", function () {
    this.timeout(120000);
    const stack = new Stack({ program: "test/engine/programs/blue-bridge" });
    after(async () => {
        if (Object.keys(stack.state).length > 0) await stack.destroy();
    });

    it("preview of an empty stack plans creates only and changes nothing", async () => {
        const before = await snapshotHost();
        const r = await stack.preview();
        assert.deepEqual(changed(r), ["create blue", "create blue-default", "create ebr0", "create veth"]);
        assert.equal(r.outputs.namespace, "blue");
        assert.equal(r.outputs.bridgeMac, UNKNOWN, "a computed output is unknown in a preview");
        assert.deepEqual(stack.state, {});
        assert.equal(await snapshotHost(), before);
    });

    it("up → ping → preview same → refresh clean → drift → up repairs → destroy restores the host", async () => {
        const before = await snapshotHost();
        const up = await stack.up();
        assert.deepEqual(changed(up), ["create blue", "create blue-default", "create ebr0", "create veth"]);
        assert.ok(at(up.steps, "create", "blue") < at(up.steps, "create", "veth"));
        assert.ok(at(up.steps, "create", "veth") < at(up.steps, "create", "blue-default"));
        assert.match(String(up.outputs.bridgeMac), /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/, "outputs come from the provider");
        assert.equal(up.outputs.bridgeMac, stack.state[stack.urnOf("ebr0", "Bridge")].outputs.mac);
        const veth = stack.state[stack.urnOf("veth", "VethPair")];
        assert.deepEqual(new Set(veth.dependencies), new Set([stack.urnOf("blue", "Netns"), stack.urnOf("ebr0", "Bridge")]));
        assert.equal(veth.outputs.master, "ebr0");
        await assertPings(up.outputs);

        assert.deepEqual(changed(await stack.preview()), []);
        const clean = await stack.refresh();
        // A bridge without a fixed MAC takes its lowest port's MAC, so a Bridge whose `mac` output is the
        // MAC at creation drifts as soon as a port is attached (provider must pin the MAC at create).
        assert.deepEqual(clean.steps.filter((s) => s.op !== "refresh"), [], "refresh right after up must report no drift");
        assert.equal(clean.changes, 0);
        assert.equal(clean.steps.length, 4);

        // Drift by hand: blue loses its address (and with it the default route via the bridge).
        await sh(["ip", "-n", "blue", "address", "flush", "dev", "eth0"]);
        assert.equal(await ping("blue", "10.1.1.3"), false);
        const drift = await stack.refresh();
        assert.ok(drift.steps.some((s) => s.name === "veth" && s.op === "drift"), JSON.stringify(drift.steps));
        assert.deepEqual(stack.state[stack.urnOf("veth", "VethPair")].outputs.peerAddresses, []);

        const repair = await stack.up();
        assert.ok(changed(repair).includes("update veth"), JSON.stringify(changed(repair)));
        assert.ok(changed(repair).every((s) => /^(update|create) /.test(s)), JSON.stringify(changed(repair)));
        assert.deepEqual(await addrs("eth0", "blue"), ["10.1.1.1/16"]);
        await assertPings(repair.outputs);
        assert.deepEqual(changed(await stack.preview()), []);

        const down = await stack.destroy();
        assert.ok(at(down.steps, "delete", "blue-default") < at(down.steps, "delete", "veth"), "dependents first");
        assert.ok(at(down.steps, "delete", "veth") < at(down.steps, "delete", "blue"));
        assert.ok(at(down.steps, "delete", "veth") < at(down.steps, "delete", "ebr0"));
        assert.deepEqual(stack.state, {});
        assert.equal(await snapshotHost(), before);
    });
});

describePrivileged("engine double: program changes become the expected steps", function () {
    this.timeout(120000);
    const stack = new Stack({ program: "test/engine/programs/shaped" });
    let initial = "";
    before(async () => {
        initial = await snapshotHost();
    });
    after(async () => {
        if (Object.keys(stack.state).length > 0) await stack.destroy();
    });

    it("first up creates everything", async () => {
        const r = await stack.up();
        assert.deepEqual(changed(r), ["create bridge", "create sblue", "create sblue-default", "create veth"]);
        await assertPings(r.outputs);
    });

    it("changing an address updates that VethPair only", async () => {
        stack.config.addresses = ["10.2.1.5/16"];
        assert.deepEqual(changed(await stack.preview()), ["update veth"]);
        const r = await stack.up();
        assert.deepEqual(changed(r), ["update veth"]);
        assert.deepEqual(await addrs("eth0", "sblue"), ["10.2.1.5/16"]);
        assert.ok(await ping("sblue", "10.2.1.3"));
    });

    it("renaming the bridge replaces it delete-first, and with it the veth on it and the route through that veth", async () => {
        stack.config.bridgeName = "sbr1";
        const p = await stack.preview();
        assert.deepEqual(changed(p), ["replace bridge", "replace sblue-default", "replace veth"]);
        assert.deepEqual(p.steps.find((s) => s.op === "replace" && s.name === "bridge")?.replaces, ["name"]);
        const r = await stack.up();
        assert.deepEqual(changed(r), ["replace bridge", "replace sblue-default", "replace veth"]);
        assert.ok(at(r.steps, "replace", "bridge") < at(r.steps, "replace", "veth"), "the bridge is made before the veth on it");
        assert.ok(at(r.steps, "replace", "veth") < at(r.steps, "replace", "sblue-default"));
        assert.equal(await link("sbr0"), undefined);
        assert.equal((await link("sveth0"))?.master, "sbr1");
        assert.equal(r.outputs.bridge, "sbr1");
        await assertPings(r.outputs);
    });

    it("adding a namespace only creates, removing it only deletes (dependents first)", async () => {
        stack.config.extraNamespace = "sextra";
        const add = await stack.up();
        assert.deepEqual(changed(add), ["create extra", "create extra-veth"]);
        await assertPings(add.outputs);
        delete stack.config.extraNamespace;
        assert.deepEqual(changed(await stack.preview()), ["delete extra", "delete extra-veth"]);
        const rm = await stack.up();
        assert.deepEqual(changed(rm), ["delete extra", "delete extra-veth"]);
        assert.ok(at(rm.steps, "delete", "extra-veth") < at(rm.steps, "delete", "extra"));
        assert.equal((await netnsList()).includes("sextra"), false);
        await assertPings(rm.outputs);
    });

    it("destroy restores the host", async () => {
        await stack.destroy();
        assert.deepEqual(stack.state, {});
        assert.equal(await snapshotHost(), initial);
    });
});

describePrivileged("engine double: failures", function () {
    this.timeout(120000);

    it("a check failure fails up with property and reason; what was created before stays in state", async () => {
        const before = await snapshotHost();
        const stack = new Stack({ program: "test/engine/programs/shaped", config: { addresses: ["not-an-address"] } });
        try {
            await assert.rejects(stack.up(), (e: EngineError) => /check failed for veth .*peerAddresses/.test(e.message));
            const left = Object.values(stack.state).filter((r) => r.custom).map((r) => r.name);
            assert.ok(!left.includes("veth") && !left.includes("sblue-default"), JSON.stringify(left));
        } finally {
            await stack.destroy();
        }
        assert.deepEqual(stack.state, {});
        assert.equal(await snapshotHost(), before);
    });

    it("a provider error fails up with the provider's message", async () => {
        // Someone else's namespace of the same name: the Netns provider refuses to adopt it.
        await sh(["ip", "netns", "add", "sblue"]);
        const stack = new Stack({ program: "test/engine/programs/shaped" });
        try {
            await assert.rejects(stack.up(), (e: EngineError) => /create sblue .*sblue/.test(e.message) && e.steps.every((s) => s.name !== "sblue"));
        } finally {
            await stack.destroy();
            await sh(["ip", "netns", "del", "sblue"]);
        }
        assert.deepEqual(stack.state, {});
    });
});
