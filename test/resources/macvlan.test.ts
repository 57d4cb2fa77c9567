import type * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { macvlanProvider } from "../../provider/resources/macvlan";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, link, ping, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

describe("resources/macvlan: check and diff (no commands)", () => {
    it("validates and leaves defaults out of the state, running nothing", async () => {
        const O = owner("Macvlan", "m");
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(macvlanProvider, { name: "mv0", parent: "eth0", owner: O }), { name: "mv0", parent: "eth0", owner: O });
            assert.deepEqual(await failedProperties(macvlanProvider, { name: "mv0", parent: "eth0", mode: "bridged", owner: O }), ["mode"]);
            assert.deepEqual(await failedProperties(macvlanProvider, { name: "mv0", parent: "-eth0", addresses: ["10.0.0.1"], owner: O }), ["addresses.0", "parent"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces on name, parent, mode or namespace (deleting first when the name would collide), updates the rest", async () => {
        const o = { name: "mv0", parent: "eth0", mode: "bridge", netns: "a", addresses: [], up: true, dad: false, owner: "x", mac: "m" };
        assert.deepEqual(await macvlanProvider.diff!("x", o, { ...o, mode: "private" }), { changes: true, replaces: ["mode"], deleteBeforeReplace: true });
        assert.deepEqual(await macvlanProvider.diff!("x", o, { ...o, netns: "b" }), { changes: true, replaces: ["netns"], deleteBeforeReplace: true });
        assert.deepEqual(await macvlanProvider.diff!("x", o, { ...o, addresses: ["10.0.0.1/24"] }), { changes: true, replaces: [], deleteBeforeReplace: true });
    });
});

describePrivileged("resources/macvlan: against the kernel", () => {
    let a: string, b: string, c: string;
    beforeEach(async () => {
        [a, b, c] = [freshNetnsName("ma"), freshNetnsName("mb"), freshNetnsName("mc")];
        for (const n of [a, b, c]) await sh(["ip", "netns", "add", n]);
        // The parent: a veth whose far end is in c, the parent's network (a stand-in for an uplink).
        await sh(["ip", "link", "add", "name", "mvp0", "type", "veth", "peer", "name", "mvq0", "netns", c]);
        await sh(["ip", "link", "set", "mvp0", "up"]);
        await sh(["ip", "-n", c, "address", "add", "10.40.0.3/24", "dev", "mvq0"]);
        await sh(["ip", "-n", c, "link", "set", "mvq0", "up"]);
    });
    afterEach(async () => {
        await sh(["ip", "link", "del", "mvp0"]).catch(() => undefined);
        for (const n of [a, b, c]) await sh(["ip", "netns", "del", n]);
    });

    it("puts two namespaces on the parent's network: they reach each other and the far side; read, update, delete", async () => {
        const made: ({ inputs: Record<string, any> } & pulumi.dynamic.CreateResult)[] = [];
        for (const [ns, address, name] of [[a, "10.40.0.1/24", "mva"], [b, "10.40.0.2/24", "mvb"]]) {
            const inputs = await checked(macvlanProvider, { name, parent: "mvp0", netns: ns, addresses: [address], owner: owner("Macvlan", name) });
            const cmds = await commandsDuring(async () => made.push({ inputs, ...(await macvlanProvider.create(inputs)) }));
            assert.equal(cmds.length, 2, "a look at the parent, then one ip -batch");
            const l = await link(name, ns);
            assert.equal(l?.linkinfo?.info_kind, "macvlan");
            assert.equal(l?.linkinfo?.info_data?.mode, "bridge");
            assert.equal(l?.ifalias, owner("Macvlan", name));
        }
        assert.equal(await ping(a, "10.40.0.2"), true, "macvlan to macvlan (bridge mode)");
        assert.equal(await ping(a, "10.40.0.3"), true, "macvlan to the parent's far side");
        const [ma] = made;
        assert.deepEqual((await macvlanProvider.read!(ma.id, ma.outs)).props, ma.outs);
        await sh(["ip", "-n", a, "address", "flush", "dev", "mva"]);
        assert.deepEqual((await macvlanProvider.read!(ma.id, ma.outs)).props!.addresses, []);
        await macvlanProvider.update!(ma.id, ma.outs, ma.inputs);
        assert.equal(await ping(a, "10.40.0.3"), true, "repaired");
        for (const m of made) await macvlanProvider.delete!(m.id, m.outs);
        assert.equal(await link("mva", a), undefined);
        assert.ok(await link("mvp0"), "the parent is left");
        for (const m of made) await macvlanProvider.delete!(m.id, m.outs);
    });

    it("a declared mac: made with it, changed in place while up, drift read back", async () => {
        const inputs = await checked(macvlanProvider, { name: "mvm", parent: "mvp0", netns: a, addresses: ["10.40.0.5/24"], mac: "0a:bc:de:f0:03:01", owner: owner("Macvlan", "mvm") });
        const { id, outs } = await macvlanProvider.create(inputs);
        assert.equal((await link("mvm", a))!.address, "0a:bc:de:f0:03:01");
        const changed = { ...inputs, mac: "0a:bc:de:f0:03:02" };
        await macvlanProvider.update!(id, outs, changed);
        const l = (await link("mvm", a))!;
        assert.equal(l.address, "0a:bc:de:f0:03:02", "changed in place");
        assert.ok(l.flags.includes("UP"));
        assert.equal(await ping(a, "10.40.0.3"), true, "reaches the far side with its new MAC");
        await sh(["ip", "-n", a, "link", "set", "dev", "mvm", "address", "0a:bc:de:f0:03:09"]);
        const drifted = (await macvlanProvider.read!(id, outs)).props!;
        assert.equal(drifted.mac, "0a:bc:de:f0:03:09");
        assert.equal((await macvlanProvider.diff!(id, drifted, changed)).changes, true);
        await macvlanProvider.delete!(id, outs);
    });

    it("refuses a parent that is not in the root namespace before making anything", async () => {
        const inputs = await checked(macvlanProvider, { name: "mvx", parent: "mvq0", netns: a, owner: owner("Macvlan", "x") });
        const cmds = await commandsDuring(() => assert.rejects(macvlanProvider.create(inputs), /parent "mvq0" of macvlan "mvx" is not a link of the root namespace: a macvlan's parent must be there/));
        assert.equal(cmds.length, 1, "only the look at the parent");
    });
});
