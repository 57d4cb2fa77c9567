/**
 * Program edits through the real engine, asserted from its own structured output (the steps of
 * `pulumi preview --json`) and then from the kernel after `pulumi up`: a member added to and
 * removed from a BridgedNetwork touches only that member's resources; renaming the bridge replaces
 * it (and the members' veths, whose names derive from it, with their routes); a changed address
 * and a changed route gateway are updates in place. Program: programs/edits.
 */
import { strict as assert } from "assert";
import { addrs, link, links, netnsList, routes } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { changes, nameOf, withProject, type PreviewJson } from "./cli";

const BASE = { bridge: "e2ebr0", members: ["ea", "eb"], address: "10.62.0.1/24", gateway: "10.62.0.1" };

/** The step for resource `name`, failing if there is none. */
function step(p: PreviewJson, name: string) {
    const s = p.steps.find((x) => nameOf(x.urn) === name && x.op !== "same");
    assert.ok(s, `no step for ${name}: ${JSON.stringify(changes(p))}`);
    return s;
}

describePrivileged("e2e: program edits through the real pulumi CLI", function () {
    this.timeout(600000);
    const ctx = withProject("test/e2e/programs/edits", BASE);
    before(() => ctx.project.pulumi(["up", "--yes"]));

    /** Sets one config value, previews (asserting the plan with `expect`), then runs up. */
    async function edit(key: string, value: unknown, expect: (p: PreviewJson) => void): Promise<void> {
        await ctx.project.setConfig({ [key]: value });
        expect(await ctx.project.preview());
        await ctx.project.pulumi(["up", "--yes"]);
        await ctx.project.pulumi(["preview", "--expect-no-changes"]);
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

    it("renaming the bridge replaces it delete-first, and the members' veths (named from it, on it) and routes with it", async () => {
        await edit("bridge", "e2ebr1", (p) => {
            const bridge = step(p, "lan-bridge");
            assert.equal(bridge.op, "replace");
            assert.deepEqual(bridge.replaceReasons, ["name"]);
            for (const m of ["ea", "ec"]) {
                // A member's host-side veth name hashes the bridge name, and its route lives on that veth.
                assert.equal(step(p, `lan-${m}-veth`).op, "replace");
                assert.equal(step(p, `lan-${m}-default`).op, "replace");
            }
            assert.deepEqual(changes(p), ["replace lan-bridge", "replace lan-ea-default", "replace lan-ea-veth", "replace lan-ec-default", "replace lan-ec-veth"]);
        });
        assert.equal(await link("e2ebr0"), undefined);
        assert.equal((await link("e2ebr1"))?.linkinfo?.info_kind, "bridge");
        assert.equal((await links()).filter((l) => l.master === "e2ebr1").length, 2, "both members' ports are on the new bridge");
        for (const m of ["ea", "ec"]) assert.equal((await routes(m)).find((r) => r.dst === "default")?.gateway, "10.61.0.1", `${m}'s default route is back`);
    });

    it("changing an address updates the veth in place", async () => {
        await edit("address", "10.62.0.4/24", (p) => {
            assert.deepEqual(changes(p), ["update solo-veth"]);
            // The dynamic-provider host passes on no per-property diff: the plan's inputs tell what changes.
            const s = step(p, "solo-veth");
            assert.deepEqual([s.oldState?.inputs?.addresses, s.newState?.inputs?.addresses], [["10.62.0.1/24"], ["10.62.0.4/24"]]);
        });
        assert.deepEqual(await addrs("e2es0"), ["10.62.0.4/24"]);
    });

    it("changing a route's gateway updates it in place", async () => {
        const ifindex = (await link("eth0", "e2esolo"))?.ifindex;
        await edit("gateway", "10.62.0.3", (p) => {
            assert.deepEqual(changes(p), ["update solo-route"]);
            const s = step(p, "solo-route");
            assert.deepEqual([s.oldState?.inputs?.gateway, s.newState?.inputs?.gateway], ["10.62.0.1", "10.62.0.3"]);
        });
        assert.equal((await routes("e2esolo")).find((r) => r.dst === "10.63.0.0/24")?.gateway, "10.62.0.3");
        assert.equal((await link("eth0", "e2esolo"))?.ifindex, ifindex, "the namespace's link was not re-made");
    });
});
