/**
 * Every example (examples/<name>/ with Pulumi.yaml + index.ts) through the engine double:
 * up → each `pingChecks` entry answers → preview shows no changes → refresh shows no drift →
 * destroy → the sandbox root is as before. Examples needing config get it from EXAMPLE_SETUP.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { EXAMPLES, EXAMPLE_SETUP, EXPECTED_EXAMPLES, exampleNames, exampleSnapshot as snapshot } from "../helpers/examples";
import { ping } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { Stack, type OpResult } from "../engine/stack";

const notSame = (r: OpResult) => r.steps.filter((s) => s.op !== "same" && s.op !== "refresh")
    .map((s) => `${s.op} ${s.name}${s.diffs ? ` (${s.diffs.join(", ")})` : ""}`);

describePrivileged("examples through the engine double", function () {
    this.timeout(180000);
    const found = exampleNames();

    for (const name of EXPECTED_EXAMPLES.filter((n) => !found.includes(n))) {
        it.skip(`${name}: SKIPPED, examples/${name}/ (Pulumi.yaml + index.ts) is not present`);
    }

    for (const name of found) {
        it(`${name}: up → pings → preview no changes → refresh no drift → destroy restores the host`, async () => {
            const setup = EXAMPLE_SETUP[name] ?? {};
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
