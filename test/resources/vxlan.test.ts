import { strict as assert } from "assert";
import { vxlanProvider } from "../../provider/resources/vxlan";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, link, ping, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

const O = owner("Vxlan", "x");

describe("resources/vxlan: check and diff (no commands)", () => {
    it("validates VNI, ports and addresses, running nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(vxlanProvider, { name: "vx0", vni: 42, remote: "10.0.0.2", owner: O }), { name: "vx0", vni: 42, remote: "10.0.0.2", dstPort: 4789, addresses: [], up: true, dad: false, owner: O });
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 0, remote: "10.0.0.2", dstPort: 0, owner: O }), ["dstPort", "vni"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 16777216, remote: "10.0.0.2", dstPort: 65536, owner: O }), ["dstPort", "vni"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, owner: O }), ["remote"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remote: "239.1.1.1", owner: O }), ["remote"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, group: "10.0.0.1", owner: O }), ["device", "group"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remote: "10.0.0.2/24", local: "fd00::1", owner: O }), ["remote"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces on any tunnel setting, updates addresses, master, mtu and up", async () => {
        const o = { name: "vx0", vni: 42, remote: "10.0.0.2", dstPort: 4789, addresses: [], up: true, dad: false, owner: O, mac: "m" };
        assert.deepEqual(await vxlanProvider.diff!("x", o, { ...o, vni: 43 }), { changes: true, replaces: ["vni"], deleteBeforeReplace: true });
        assert.deepEqual(await vxlanProvider.diff!("x", o, { ...o, master: "br0" }), { changes: true, replaces: [], deleteBeforeReplace: false });
    });
});

describePrivileged("resources/vxlan: against the kernel", () => {
    let a: string, b: string;
    beforeEach(async () => {
        [a, b] = [freshNetnsName("xa"), freshNetnsName("xb")];
        for (const n of [a, b]) await sh(["ip", "netns", "add", n]);
        // The underlay: two "hosts" joined by a veth.
        await sh(["ip", "-n", a, "link", "add", "name", "ul0", "type", "veth", "peer", "name", "ul0", "netns", b]);
        for (const [n, addr] of [[a, "10.50.0.1/24"], [b, "10.50.0.2/24"]]) {
            await sh(["ip", "-n", n, "address", "add", addr, "dev", "ul0"]);
            await sh(["ip", "-n", n, "link", "set", "ul0", "up"]);
        }
    });
    afterEach(async () => {
        for (const n of [a, b]) await sh(["ip", "netns", "del", n]);
    });

    it("joins two namespaces over the underlay (and a bridge to the overlay); read, drift, update, delete", async () => {
        const made = [];
        for (const [ns, local, remote, overlay] of [[a, "10.50.0.1", "10.50.0.2", "10.60.0.1/24"], [b, "10.50.0.2", "10.50.0.1", "10.60.0.2/24"]]) {
            const inputs = await checked(vxlanProvider, { name: "vx42", vni: 42, local, remote, device: "ul0", netns: ns, addresses: [overlay], owner: owner("Vxlan", ns) });
            const cmds = await commandsDuring(async () => made.push({ inputs, ...(await vxlanProvider.create(inputs)) }));
            assert.equal(cmds.length, 1, "one ip -batch");
            const l = await link("vx42", ns);
            assert.equal(l?.linkinfo?.info_kind, "vxlan");
            assert.equal(l?.linkinfo?.info_data?.id, 42);
            assert.equal(l?.linkinfo?.info_data?.port, 4789);
            assert.equal(l?.ifalias, owner("Vxlan", ns));
        }
        assert.equal(await ping(a, "10.60.0.2"), true, "over the tunnel");
        const [va] = made;
        assert.deepEqual((await vxlanProvider.read!(va.id, va.outs)).props, va.outs);
        await sh(["ip", "-n", a, "link", "set", "vx42", "down"]);
        assert.equal((await vxlanProvider.read!(va.id, va.outs)).props!.up, false);
        // On a bridge: the bridge's LAN now reaches the other end.
        await sh(["ip", "-n", a, "link", "add", "name", "br0", "type", "bridge"]);
        await sh(["ip", "-n", a, "link", "set", "br0", "up"]);
        await sh(["ip", "-n", a, "address", "add", "10.60.0.11/24", "dev", "br0"]);
        await vxlanProvider.update!(va.id, va.outs, { ...va.inputs, master: "br0", addresses: [] });
        assert.equal((await link("vx42", a))?.master, "br0");
        assert.equal(await ping(a, "10.60.0.2"), true, "from the bridge, over the tunnel");
        for (const m of made) await vxlanProvider.delete!(m.id, m.outs);
        assert.equal(await link("vx42", a), undefined);
        assert.ok(await link("ul0", a), "the underlay is left");
        for (const m of made) await vxlanProvider.delete!(m.id, m.outs);
    });
});
