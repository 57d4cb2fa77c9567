/**
 * Every example through the real Pulumi CLI, as a user runs it: the whole life of test/e2e/lifecycle.ts
 * (up, pings, the example's own check such as packets counted through a tunnel, a file fetched through
 * a port forward or a rate limit measured, no changes, drift by hand, repair, destroy).
 */
import { EXAMPLE_SETUP, EXPECTED_EXAMPLES, exampleNames } from "../helpers/examples";
import { describePrivileged } from "../helpers/sandbox";
import { EXIT_CHANGES, Project, requireCli } from "./cli";
import { lifecycle } from "./lifecycle";

describePrivileged("e2e: every example through the real pulumi CLI", function () {
    this.timeout(600000);
    before(function () { requireCli(this); });
    const found = exampleNames();

    for (const name of EXPECTED_EXAMPLES.filter((n) => !found.includes(n))) {
        it.skip(`${name}: SKIPPED, examples/${name}/ (Pulumi.yaml + index.ts) is not present`);
    }

    for (const name of found) {
        it(`${name}: up → pings → no changes → refresh clean → drift → preview --refresh exits ${EXIT_CHANGES} → up --refresh repairs → destroy restores the host`, async function () {
            const project = Project.create(`examples/${name}`);
            await lifecycle(this, project, name, EXAMPLE_SETUP[name] ?? {});
        });
    }
});
