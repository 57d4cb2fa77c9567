/**
 * Mistakes a new user makes, through the real pulumi CLI: each fails with a message that names the
 * property or resource at fault and the fix, and leaves the host as it was. Program: programs/mistakes.
 */
import { strict as assert } from "assert";
import { links } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { withProject } from "./cli";

describePrivileged("e2e: mistakes named with their fix, through the real pulumi CLI", function () {
    this.timeout(600000);
    const ctx = withProject("test/e2e/programs/mistakes", { mistake: "typo" });

    it("a misspelled property built in a variable fails preview, naming it and the property meant", async () => {
        const r = await ctx.project.pulumi(["preview"], { codes: [1, 255] });
        assert.match(r.stdout + r.stderr, /unknown property 'peerAdresses': did you mean 'peerAddresses'\?/);
        assert.equal((await links()).find((l) => l.ifname.startsWith("mtypo")), undefined);
    });

    it("a misspelled BridgedNetwork argument fails preview the same way", async () => {
        await ctx.project.setConfig({ mistake: "lan-typo" });
        const r = await ctx.project.pulumi(["preview"], { codes: [1, 255] });
        assert.match(r.stdout + r.stderr, /BridgedNetwork "lan": namespace: unknown property 'namespace': did you mean 'namespaces'\?/);
    });

    it("two resources of the stack declaring one interface: up fails naming the other resource, and suggests no delete", async () => {
        await ctx.project.setConfig({ mistake: "clash" });
        const r = await ctx.project.pulumi(["up", "--yes"], { codes: [1, 255] });
        const out = r.stdout + r.stderr;
        assert.match(out, /link "mclash0" already exists in the root namespace and belongs to VethPair "clash-[ab]" of this stack: two resources declare the same object; give one of them another name/);
        assert.doesNotMatch(out, /link delete mclash0/);
        assert.equal((await links()).filter((l) => l.ifname === "mclash0").length, 1, "the winner's link is left alone");
    });
});
