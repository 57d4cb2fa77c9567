/**
 * What docs/architecture.md and the engine double (test/bench/engine/) claim about the engine, checked against the
 * real one: unknown values and no commands in a preview, delete-before-replace for rules,
 * `deletedWith` skipping the deletes of a namespace's veth and route, refresh dropping a resource
 * whose object is gone (and up making it again), and the default parallelism (4 × CPUs).
 * Programs: programs/claims, programs/parallel.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { PARALLEL } from "../bench/engine/engine";
import { withDefaults } from "../../provider/core/defaults";
import type { Kind } from "../../provider/core/resource";
import { kinds } from "../../provider/handlers";
import { links, netnsList, sh } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { changes, nameOf, Project, withProject, type StateResource } from "./cli";

/** The argv lines the provider ran while `fn` ran (PULUMI_NETNS_TRACE, see provider/linux/exec.ts). */
async function traced(project: Project, fn: (env: NodeJS.ProcessEnv) => Promise<unknown>): Promise<string[][]> {
    const file = path.join(project.root, `trace-${Date.now()}`);
    await fn({ PULUMI_NETNS_TRACE: file });
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l) as string[]) : [];
}

const forwardRules = async () => (await sh(["iptables", "-S", "FORWARD"])).split("\n").filter((l) => l.includes("pulumi-netns:"));

describePrivileged("e2e: the engine's behaviour that docs/architecture.md and the engine double rely on", function () {
    this.timeout(600000);
    const ctx = withProject("test/e2e/programs/claims");

    it("preview of a new stack: computed outputs unknown, inputs passed through known, no command run", async () => {
        let text = "";
        const cmds = await traced(ctx.project, async (env) => (text = (await ctx.project.pulumi(["preview"], { env })).stdout));
        assert.match(text, /bridgeMac\s*:\s*\[unknown\]/, text);
        assert.match(text, /aloneName\s*:\s*"clalone"/, text);
        assert.deepEqual(cmds, [], "preview ran commands");
        const up = await traced(ctx.project, (env) => ctx.project.pulumi(["up", "--yes"], { env }));
        assert.ok(up.length > 0);
        const noop = await traced(ctx.project, (env) => ctx.project.pulumi(["up", "--yes"], { env }));
        assert.deepEqual(noop, [], "a no-op up ran commands");
    });

    it("the state's inputs hold what the program gives, not the defaults; a state holding them too previews no change, and up leaves them out", async () => {
        const ours = (s: { deployment: { resources?: StateResource[] } }) =>
            (s.deployment.resources ?? []).filter((r) => r.custom && r.type.startsWith("pulumi-nodejs:dynamic/netns:"));
        const lean = ours(await ctx.project.exportStack());
        const alone = lean.find((r) => nameOf(r.urn) === "alone")!;
        assert.deepEqual(Object.keys(alone.inputs!).sort(), ["__provider", "name", "owner"]);
        assert.equal(alone.outputs!.loopbackUp, true, "the outputs hold every setting");
        // The state as written when check still filled the defaults in.
        const full = await ctx.project.exportStack();
        for (const r of ours(full)) r.inputs = withDefaults(kinds[r.type.split(":").pop() as Kind].schema, r.inputs!);
        assert.equal(ours(full).find((r) => nameOf(r.urn) === "alone")!.inputs!.loopbackUp, true);
        const file = path.join(ctx.project.root, "full-state.json");
        fs.writeFileSync(file, JSON.stringify(full));
        await ctx.project.pulumi(["stack", "import", "--file", file]);
        await ctx.project.pulumi(["preview", "--expect-no-changes"]);
        await ctx.project.pulumi(["preview", "--refresh", "--expect-no-changes"]);
        await ctx.project.pulumi(["up", "--yes"]);
        const inputs = (rs: StateResource[]) => Object.fromEntries(rs.map((r) => [r.urn, r.inputs]));
        assert.deepEqual(inputs(ours(await ctx.project.exportStack())), inputs(lean));
    });

    it("a rule's match change is a delete-before-replace: the old rule goes first, one rule remains", async () => {
        await ctx.project.setConfig({ fwdIn: "clbr9" });
        const plan = await ctx.project.preview();
        const fwd = plan.steps.find((s) => nameOf(s.urn) === "fwd")!;
        assert.equal(fwd.op, "replace");
        assert.deepEqual(fwd.replaceReasons, ["inInterface"]);
        assert.equal(fwd.oldState?.pendingReplacement, true, "deleteBeforeReplace from the provider's diff reaches the engine");
        assert.deepEqual(changes(plan), ["replace fwd"]);
        await ctx.project.pulumi(["up", "--yes"]);
        const rules = await forwardRules();
        assert.equal(rules.length, 1, rules.join("\n"));
        assert.match(rules[0], /^-A FORWARD -i clbr9 /);
    });

    it("refresh drops a resource whose object was deleted by hand; the next up makes it again", async () => {
        await sh(["ip", "netns", "delete", "clalone"]);
        await ctx.project.pulumi(["refresh", "--yes"]);
        const names = ((await ctx.project.exportStack()).deployment.resources ?? []).map((r) => nameOf(r.urn));
        assert.ok(!names.includes("alone"), "refresh kept a namespace that is gone");
        assert.deepEqual(changes(await ctx.project.preview()), ["create alone"]);
        await ctx.project.pulumi(["up", "--yes"]);
        assert.ok((await netnsList()).includes("clalone"));
    });

    it("deletedWith: destroy sends no delete for a member's veth or route; its namespace's delete takes them", async () => {
        const state = (await ctx.project.exportStack()).deployment.resources ?? [];
        const vethNames = state.filter((r) => r.type.endsWith(":VethPair")).map((r) => String(r.outputs?.name));
        assert.equal(vethNames.length, 2);
        for (const r of state.filter((x) => x.type.endsWith(":VethPair") || x.type.endsWith(":Route"))) {
            assert.match(String(r.deletedWith), /:Netns::lan-c[ab]$/, `${nameOf(r.urn)} is deletedWith its namespace`);
        }
        const cmds = await traced(ctx.project, (env) => ctx.project.pulumi(["destroy", "--yes"], { env }));
        assert.deepEqual(cmds.filter((argv) => argv.includes("route")), [], "a route delete was sent");
        assert.deepEqual(cmds.filter((argv) => vethNames.some((v) => argv.includes(v))), [], "a veth delete was sent");
        assert.deepEqual((await links()).filter((l) => vethNames.includes(l.ifname)), [], "the veths' host ends are gone");
    });

    it(`runs ${PARALLEL} creates at once by default (4 × CPUs), as the engine double does`, async () => {
        const p = Project.create("test/e2e/programs/parallel");
        try {
            const log = path.join(p.root, "log");
            await p.init("dev", { log });
            await p.pulumi(["up", "--yes"]);
            let now = 0;
            let most = 0;
            for (const line of fs.readFileSync(log, "utf8").split("\n").filter(Boolean)) {
                now += line.startsWith("start") ? 1 : -1;
                most = Math.max(most, now);
            }
            assert.equal(most, PARALLEL);
            await p.pulumi(["destroy", "--yes"]);
        } finally {
            p.remove();
        }
    });
});
