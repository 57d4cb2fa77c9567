import { strict as assert } from "assert";
import { bridgeProvider } from "../../provider/resources/bridge";
import { describePrivileged } from "../helpers/sandbox";
import { addrs, freshNetnsName, link, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

const O = owner("Bridge", "br");

describe("resources/bridge: diff (no commands)", () => {
    it("replaces on rename or move, updates addresses in place", async () => {
        const o = { name: "br0", addresses: ["10.0.0.1/24"], up: true, owner: O, mac: "m" };
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await bridgeProvider.diff!("x", o, { ...o, name: "br1" }), { changes: true, replaces: ["name"], deleteBeforeReplace: true });
            // A state written before `dad` existed: it was false.
            assert.deepEqual(await bridgeProvider.diff!("x", o, { ...o, dad: false }), { changes: false, replaces: [], deleteBeforeReplace: true });
            assert.deepEqual(await bridgeProvider.diff!("x", o, { ...o, dad: true }), { changes: true, replaces: [], deleteBeforeReplace: true });
            assert.deepEqual(await bridgeProvider.diff!("x", o, { ...o, netns: "n" }), { changes: true, replaces: ["netns"], deleteBeforeReplace: true });
            assert.deepEqual(await bridgeProvider.diff!("x", o, { ...o, addresses: [] }), { changes: true, replaces: [], deleteBeforeReplace: true });
        });
        assert.deepEqual(cmds, []);
    });
    it("takes mac as an input: normalised, checked, changed in place, left alone when omitted", async () => {
        assert.equal((await checked(bridgeProvider, { name: "br0", mac: "0A:00:00:00:00:01", owner: O })).mac, "0a:00:00:00:00:01");
        assert.deepEqual(await failedProperties(bridgeProvider, { name: "br0", mac: "ff:ff:ff:ff:ff:ff", owner: O }), ["mac"]);
        const o = { name: "br0", addresses: [], up: true, dad: false, owner: O, mac: "0a:00:00:00:00:01" };
        assert.deepEqual(await bridgeProvider.diff!("x", o, { ...o, mac: "0a:00:00:00:00:02" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        const { mac: _m, ...omitted } = o;
        assert.deepEqual(await bridgeProvider.diff!("x", o, omitted), { changes: false, replaces: [], deleteBeforeReplace: true });
    });
});

describePrivileged("resources/bridge: against the kernel", () => {
    let ns: string;
    beforeEach(async () => {
        ns = freshNetnsName();
        await sh(["ip", "netns", "add", ns]);
    });
    afterEach(() => sh(["ip", "netns", "del", ns]));

    it("creates, reads drift, updates and deletes", async () => {
        const inputs = await checked(bridgeProvider, { name: "br0", netns: ns, addresses: ["192.168.1.254/24"], owner: O });
        let made: Awaited<ReturnType<typeof bridgeProvider.create>> | undefined;
        const cmds = await commandsDuring(async () => (made = await bridgeProvider.create(inputs)));
        const { id, outs } = made!;
        assert.deepEqual(cmds, [["ip", "-n", ns, "-batch", "-"]], "made and configured in one process");
        const br = (await link("br0", ns))!;
        assert.equal(br.linkinfo?.info_kind, "bridge");
        assert.equal(br.ifalias, O);
        assert.ok(br.flags.includes("UP"));
        assert.equal(outs.mac, br.address);
        assert.deepEqual(await addrs("br0", ns), ["192.168.1.254/24"]);
        assert.deepEqual((await bridgeProvider.read!(id, outs)).props, outs);

        // A bridge without a fixed MAC would take its lowest port's MAC: ours keeps its own.
        await sh(["ip", "-n", ns, "link", "add", "name", "p0", "address", "00:00:00:00:00:01", "type", "veth", "peer", "name", "p1"]);
        await sh(["ip", "-n", ns, "link", "set", "dev", "p0", "master", "br0"]);
        assert.equal((await link("br0", ns))!.address, outs.mac);
        assert.deepEqual((await bridgeProvider.read!(id, outs)).props, outs, "a port joining is not drift");

        await sh(["ip", "-n", ns, "address", "add", "10.9.9.9/8", "dev", "br0"]);
        await sh(["ip", "-n", ns, "link", "set", "dev", "br0", "down"]);
        const drifted = (await bridgeProvider.read!(id, outs)).props!;
        assert.deepEqual(drifted.addresses, ["192.168.1.254/24", "10.9.9.9/8"]);
        assert.equal(drifted.up, false);

        await bridgeProvider.update!(id, drifted, inputs);
        assert.deepEqual(await addrs("br0", ns), ["192.168.1.254/24"]);
        assert.ok((await link("br0", ns))!.flags.includes("UP"));

        await bridgeProvider.delete!(id, outs);
        assert.equal(await link("br0", ns).catch(() => undefined), undefined);
        await bridgeProvider.delete!(id, outs);
    });

    it("a declared mac: made with it, kept as ports join, changed in place, drift put back, compared by adopt", async () => {
        const inputs = await checked(bridgeProvider, { name: "brm", netns: ns, mac: "0a:bc:de:f0:01:01", owner: O });
        const { id, outs } = await bridgeProvider.create(inputs);
        assert.equal((await link("brm", ns))!.address, "0a:bc:de:f0:01:01");
        assert.equal(outs.mac, "0a:bc:de:f0:01:01");
        await sh(["ip", "-n", ns, "link", "add", "name", "p0", "address", "00:00:00:00:00:01", "type", "veth", "peer", "name", "p1"]);
        await sh(["ip", "-n", ns, "link", "set", "dev", "p0", "master", "brm"]);
        assert.deepEqual((await bridgeProvider.read!(id, outs)).props, outs, "a port joining changes nothing");
        const changed = { ...inputs, mac: "0a:bc:de:f0:01:02" };
        const { outs: outs2 } = await bridgeProvider.update!(id, outs, changed);
        const br = (await link("brm", ns))!;
        assert.equal(br.address, "0a:bc:de:f0:01:02", "changed in place");
        assert.ok(br.flags.includes("UP"));
        assert.equal(outs2.mac, "0a:bc:de:f0:01:02");
        await sh(["ip", "-n", ns, "link", "set", "dev", "brm", "address", "0a:bc:de:f0:01:09"]);
        const drifted = (await bridgeProvider.read!(id, outs2)).props!;
        assert.equal(drifted.mac, "0a:bc:de:f0:01:09");
        assert.equal((await bridgeProvider.diff!(id, drifted, changed)).changes, true);
        await bridgeProvider.update!(id, drifted, changed);
        assert.equal((await link("brm", ns))!.address, "0a:bc:de:f0:01:02", "put back");
        await bridgeProvider.delete!(id, outs2);

        // Made by hand with the MAC a declaration gives: refused without adopt, compared with it, never touched but for the alias.
        await sh(["ip", "-n", ns, "link", "add", "name", "brh", "address", "0a:bc:de:f0:01:03", "type", "bridge"]);
        const decl = { name: "brh", netns: ns, up: false, mac: "0a:bc:de:f0:01:03", owner: O };
        await assert.rejects(bridgeProvider.create(await checked(bridgeProvider, decl)), /link "brh" already exists in namespace .* not owned by this resource/);
        await assert.rejects(bridgeProvider.create(await checked(bridgeProvider, { ...decl, mac: "0a:bc:de:f0:01:04", adopt: true })), /cannot adopt bridge "brh" .*\(mac: declared "0a:bc:de:f0:01:04", found "0a:bc:de:f0:01:03"\)/);
        assert.deepEqual([(await link("brh", ns))!.address, (await link("brh", ns))!.ifalias], ["0a:bc:de:f0:01:03", undefined]);
        const adopted = await bridgeProvider.create(await checked(bridgeProvider, { ...decl, adopt: true }));
        assert.deepEqual([(await link("brh", ns))!.address, (await link("brh", ns))!.ifalias], ["0a:bc:de:f0:01:03", O]);
        assert.equal(adopted.outs.mac, "0a:bc:de:f0:01:03");
    });

    it("refuses a bridge it does not own", async () => {
        await sh(["ip", "-n", ns, "link", "add", "name", "br9", "type", "bridge"]);
        const inputs = await checked(bridgeProvider, { name: "br9", netns: ns, owner: O });
        await assert.rejects(bridgeProvider.create(inputs), /not owned by this resource/);
        await bridgeProvider.delete!("x", { ...inputs, mac: "" });
        assert.equal((await link("br9", ns))!.linkinfo?.info_kind, "bridge");
    });
});
