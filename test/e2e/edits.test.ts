/**
 * Program edits through the real engine, asserted from its own structured output (the steps of
 * `pulumi preview --json`) and then from the kernel after `pulumi up`: a member added to and
 * removed from a BridgedNetwork touches only that member's resources; renaming the bridge replaces
 * it; a changed address and a changed route gateway are updates in place. Program: programs/edits.
 */
import { strict as assert } from "assert";
import { addrs, link, links, netnsList, routes } from "../helpers/kernel";
import { exampleSnapshot } from "../helpers/examples";
import { describePrivileged } from "../helpers/sandbox";
import { changes, nameOf, Project, requireCli, type PreviewJson } from "./cli";

const BASE = { bridge: "e2ebr0", members: ["ea", "eb"], address: "10.62.0.1/24", gateway: "10.62.0.1" };

/** The step for resource `name`, failing if there is none. */
function step(p: PreviewJson, name: string) {
    const s = p.steps.find((x) => nameOf(x.urn) === name && x.op !== "same");
    assert.ok(s, `no step for ${name}: ${JSON.stringify(changes(p))}`);
    return s;
}

describePrivileged("e2e: program edits through the real pulumi CLI", function () {
    this.timeout(600000);
    let project: Project;
    let hostBefore: string;
    before(async function () {
        requireCli(this);
        hostBefore = await exampleSnapshot();
        project = Project.create("test/e2e/programs/edits");
        await project.init("dev", BASE);
        await project.pulumi(["up", "--yes"]);
    });
    after(async () => {
        if (!project) return;
        await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
        project.remove();
        assert.equal(await exampleSnapshot(), hostBefore, "destroy left the host changed");
    });

    /** Sets one config value, previews (asserting the plan with `expect`), then runs up. */
    async function edit(key: string, value: unknown, expect: (p: PreviewJson) => void): Promise<void> {
        await project.setConfig({ [key]: value });
        const plan = await project.preview();
        expect(plan);
        await project.pulumi(["up", "--yes"]);
        await project.pulumi(["preview", "--expect-no-changes"]);
    }

    it("adding a member creates its namespace, veth and route, and nothing else changes", async () => {
        await edit("members", ["ea", "eb", "ec"], (p) =>
            assert.deepEqual(changes(p), ["create lan-ec", "create lan-ec-default", "create lan-ec-veth"]));
        assert.ok((await netnsList()).includes("ec"));
        assert.equal((await routes("ec")).find((r) => r.dst === "default")?.gateway, "10.61.0.1");
    });

    it("removing a member deletes only its resources", async () => {
        await edit("members", ["ea", "ec"], (p) =>
            assert.deepEqual(changes(p), ["delete lan-eb", "delete lan-eb-default", "delete lan-eb-veth"]));
        assert.deepEqual((await netnsList()).filter((n) => ["ea", "eb", "ec"].includes(n)).sort(), ["ea", "ec"]);
    });

    it("renaming the bridge replaces it (and moves the members' ports to the new one)", async () => {
        await edit("bridge", "e2ebr1", (p) => {
            const s = step(p, "lan-bridge");
            assert.ok(["replace", "create-replacement"].includes(s.op), s.op);
            assert.ok(s.keys?.includes("name"), JSON.stringify(s.keys));
            const others = changes(p).filter((c) => !c.endsWith(" lan-bridge"));
            assert.deepEqual(others, ["update lan-ea-veth", "update lan-ec-veth"], "the members' veths change master in place");
        });
        assert.equal(await link("e2ebr0"), undefined);
        assert.equal((await link("e2ebr1"))?.linkinfo?.info_kind, "bridge");
        assert.equal((await links()).filter((l) => l.master === "e2ebr1").length, 2, "both members' ports are on the new bridge");
    });

    it("changing an address updates the veth in place", async () => {
        await edit("address", "10.62.0.4/24", (p) => {
            assert.deepEqual(changes(p), ["update solo-veth"]);
            assert.ok(step(p, "solo-veth").diffs?.includes("addresses"), JSON.stringify(step(p, "solo-veth").diffs));
        });
        assert.deepEqual(await addrs("e2es0"), ["10.62.0.4/24"]);
    });

    it("changing a route's gateway updates it in place", async () => {
        const ifindex = (await link("eth0", "e2esolo"))?.ifindex;
        await edit("gateway", "10.62.0.3", (p) => {
            assert.deepEqual(changes(p), ["update solo-route"]);
            assert.ok(step(p, "solo-route").diffs?.includes("gateway"));
        });
        assert.equal((await routes("e2esolo")).find((r) => r.dst === "10.63.0.0/24")?.gateway, "10.62.0.3");
        assert.equal((await link("eth0", "e2esolo"))?.ifindex, ifindex, "the namespace's link was not re-made");
    });
});
