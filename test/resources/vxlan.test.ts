import type * as pulumi from "@pulumi/pulumi";
import { strict as assert } from "assert";
import { mkdtempSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { vxlanProvider } from "../../provider/resources/vxlan";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, link, ping, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

const O = owner("Vxlan", "x");

describe("resources/vxlan: check and diff (no commands)", () => {
    it("validates VNI, ports and addresses, running nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(vxlanProvider, { name: "vx0", vni: 42, remote: "10.0.0.2", owner: O }), { name: "vx0", vni: 42, remote: "10.0.0.2", owner: O });
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 0, remote: "10.0.0.2", dstPort: 0, owner: O }), ["dstPort", "vni"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 16777216, remote: "10.0.0.2", dstPort: 65536, owner: O }), ["dstPort", "vni"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, owner: O }), ["remote"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remote: "239.1.1.1", owner: O }), ["remote"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, group: "10.0.0.1", owner: O }), ["device", "group"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remote: "10.0.0.2/24", local: "fd00::1", owner: O }), ["remote"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remote: "10.0.0.2", remotes: ["10.0.0.3"], owner: O }), ["remotes"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remotes: ["10.0.0.3", "239.1.1.1", "10.0.0.3"], owner: O }), ["remotes", "remotes.1"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, local: "10.0.0.1", remotes: ["10.0.0.3", "fd00::3"], owner: O }), ["remotes.1"]);
            assert.deepEqual((await checked(vxlanProvider, { name: "vx0", vni: 7, remotes: ["10.0.0.3"], owner: O })).remotes, ["10.0.0.3"]);
            assert.deepEqual(await failedProperties(vxlanProvider, { name: "vx0", vni: 1, remotes: ["fd00::3"], owner: O }), ["local"]);
            assert.deepEqual((await checked(vxlanProvider, { name: "vx0", vni: 7, local: "fd00::1", remotes: ["fd00::3"], owner: O })).remotes, ["fd00::3"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces on any tunnel setting, updates addresses, master, mtu and up", async () => {
        const o = { name: "vx0", vni: 42, remote: "10.0.0.2", dstPort: 4789, addresses: [], up: true, dad: false, owner: O, mac: "m" };
        assert.deepEqual(await vxlanProvider.diff!("x", o, { ...o, vni: 43 }), { changes: true, replaces: ["vni"], deleteBeforeReplace: true });
        assert.deepEqual(await vxlanProvider.diff!("x", o, { ...o, master: "br0" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        const m = { ...o, remote: undefined, remotes: ["10.0.0.2"] };
        assert.deepEqual(await vxlanProvider.diff!("x", m, { ...m, remotes: ["10.0.0.2", "10.0.0.3"] }), { changes: true, replaces: [], deleteBeforeReplace: true }, "a peer more is an update");
        assert.deepEqual((await vxlanProvider.diff!("x", o, m)).replaces, ["remote"], "point to point to a list is another device");
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

    it("a declared mac: made with it and changed in place; a failed create deletes no device made by hand with that MAC", async () => {
        const inputs = await checked(vxlanProvider, { name: "vxm", vni: 77, local: "10.50.0.1", remote: "10.50.0.2", device: "ul0", netns: a, mac: "0a:bc:de:f0:02:01", owner: O });
        const { id, outs } = await vxlanProvider.create(inputs);
        assert.equal((await link("vxm", a))!.address, "0a:bc:de:f0:02:01");
        await vxlanProvider.update!(id, outs, { ...inputs, mac: "0a:bc:de:f0:02:02" });
        const l = (await link("vxm", a))!;
        assert.equal(l.address, "0a:bc:de:f0:02:02", "changed in place");
        assert.ok(l.flags.includes("UP"));
        await vxlanProvider.delete!(id, outs);
        // A device of that name and MAC made by hand; the create fails on its first line (no such underlay), not on the name.
        await sh(["ip", "-n", a, "link", "add", "name", "vxh", "address", "0a:bc:de:f0:02:03", "type", "vxlan", "id", "78", "remote", "10.50.0.2", "dstport", "4789"]);
        const clash = await checked(vxlanProvider, { name: "vxh", vni: 78, remote: "10.50.0.2", device: "no-such-dev", netns: a, mac: "0a:bc:de:f0:02:03", owner: O });
        await assert.rejects(vxlanProvider.create(clash), /no-such-dev/);
        assert.equal((await link("vxh", a))?.address, "0a:bc:de:f0:02:03", "the hand-made device is still there");
    });

    it("joins two namespaces over the underlay (and a bridge to the overlay); read, drift, update, delete", async () => {
        const made: ({ inputs: Record<string, any> } & pulumi.dynamic.CreateResult)[] = [];
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

describePrivileged("resources/vxlan: remotes (head-end replication) against the kernel", function () {
    this.timeout(60000);
    // Three "hosts" on one underlay bridge (in namespace `ul`), each with a bridge joined by a Vxlan to the other two.
    const hosts = ["ha", "hb", "hc"].map((h, i) => ({ ns: freshNetnsName(h), underlay: `10.51.0.${i + 1}`, overlay: `10.61.0.${i + 1}` }));
    const ul = freshNetnsName("ul");
    const fdb = async (ns: string) => (JSON.parse(await sh(["bridge", "-n", ns, "-json", "fdb", "show", "dev", "vxh"])) as { mac: string; dst?: string }[])
        .filter((e) => e.mac === "00:00:00:00:00:00").map((e) => e.dst).sort();
    beforeEach(async () => {
        await sh(["ip", "netns", "add", ul]);
        await sh(["ip", "-n", ul, "link", "add", "name", "ulbr", "type", "bridge"]);
        await sh(["ip", "-n", ul, "link", "set", "ulbr", "up"]);
        for (const [i, h] of hosts.entries()) {
            await sh(["ip", "netns", "add", h.ns]);
            await sh(["ip", "-n", ul, "link", "add", "name", `p${i}`, "type", "veth", "peer", "name", "ul0", "netns", h.ns]);
            await sh(["ip", "-n", ul, "link", "set", `p${i}`, "master", "ulbr", "up"]);
            await sh(["ip", "-n", h.ns, "address", "add", `${h.underlay}/24`, "dev", "ul0"]);
            await sh(["ip", "-n", h.ns, "link", "set", "ul0", "up"]);
            await sh(["ip", "-n", h.ns, "link", "add", "name", "br0", "type", "bridge"]);
            await sh(["ip", "-n", h.ns, "address", "add", `${h.overlay}/24`, "dev", "br0"]);
            await sh(["ip", "-n", h.ns, "link", "set", "br0", "up"]);
        }
    });
    afterEach(async () => {
        for (const n of [ul, ...hosts.map((h) => h.ns)]) await sh(["ip", "netns", "del", n]).catch(() => undefined);
    });

    it("joins three bridges with one device each: flood list written, read back, drift, update in place, adopt, delete", async () => {
        const made = [];
        for (const h of hosts) {
            const remotes = hosts.filter((o) => o !== h).map((o) => o.underlay);
            const inputs = await checked(vxlanProvider, { name: "vxh", vni: 4242, local: h.underlay, remotes, device: "ul0", master: "br0", netns: h.ns, owner: owner("Vxlan", h.ns) });
            const r = await vxlanProvider.create(inputs);
            assert.deepEqual(await fdb(h.ns), [...remotes].sort(), "the kernel's flood list");
            assert.equal((await link("vxh", h.ns))?.master, "br0");
            made.push({ h, inputs, ...r });
        }
        for (const h of hosts) for (const o of hosts) if (o !== h) assert.equal(await ping(h.ns, o.overlay), true, `${h.overlay} → ${o.overlay} over the overlay`);
        // No loop: a broadcast goes once to each peer and is never sent on by them (a p2p mesh on one bridge would storm).
        const tx = async (ns: string) => Number((JSON.parse(await sh(["ip", "-n", ns, "-s", "-json", "link", "show", "vxh"]))[0]).stats64.tx.packets);
        const before = await Promise.all(hosts.map((h) => tx(h.ns)));
        await sh(["ip", "netns", "exec", hosts[0].ns, "ping", "-b", "-c", "1", "-W", "1", "10.61.0.255"]).catch(() => undefined);
        await new Promise((r) => setTimeout(r, 500));
        const after = await Promise.all(hosts.map((h) => tx(h.ns)));
        assert.ok(after[0] - before[0] >= 2, `the broadcast went to both peers: ${before} → ${after}`);
        // IPv6's own chatter (router solicitations, MLD) is flooded too: tens of packets; a loop would be tens of thousands a second.
        assert.ok(after.every((n, i) => n - before[i] < 500), `a broadcast stays a few packets, no storm: ${before} → ${after}`);

        const [a] = made;
        assert.deepEqual((await vxlanProvider.read!(a.id, a.outs)).props, a.outs, "refresh without drift");
        await sh(["bridge", "-n", a.h.ns, "fdb", "del", "00:00:00:00:00:00", "dev", "vxh", "dst", hosts[2].underlay, "self"]);
        assert.deepEqual((await vxlanProvider.read!(a.id, a.outs)).props!.remotes, [hosts[1].underlay], "a removed entry is drift");
        const cmds = await commandsDuring(() => vxlanProvider.update!(a.id, a.outs, a.inputs));
        assert.deepEqual(await fdb(a.h.ns), [hosts[1].underlay, hosts[2].underlay].sort(), "restored");
        assert.ok(!cmds.some((c) => c.includes("link") && c.includes("add")), "in place");
        await vxlanProvider.update!(a.id, a.outs, { ...a.inputs, remotes: [hosts[2].underlay] });
        assert.deepEqual(await fdb(a.h.ns), [hosts[2].underlay], "a peer removed: only its entry goes");
        assert.equal(await ping(a.h.ns, hosts[2].overlay), true);

        // A device made by hand, as declared, is adopted; with a different flood list it is not, and nothing changes.
        const b = made[1];
        await vxlanProvider.delete!(b.id, b.outs);
        assert.equal(await link("vxh", b.h.ns), undefined);
        await sh(["ip", "-n", b.h.ns, "link", "add", "name", "vxh", "type", "vxlan", "id", "4242", "local", b.h.underlay, "dev", "ul0", "dstport", "4789"]);
        await sh(["ip", "-n", b.h.ns, "link", "set", "vxh", "master", "br0", "up"]);
        await sh(["bridge", "-n", b.h.ns, "fdb", "append", "00:00:00:00:00:00", "dev", "vxh", "dst", hosts[0].underlay]);
        await assert.rejects(vxlanProvider.create({ ...b.inputs, adopt: true }), /cannot adopt vxlan "vxh" .*remotes: declared \["10\.51\.0\.1","10\.51\.0\.3"\], found \["10\.51\.0\.1"\]/);
        assert.equal((await link("vxh", b.h.ns))?.ifalias, undefined, "nothing written");
        await sh(["bridge", "-n", b.h.ns, "fdb", "append", "00:00:00:00:00:00", "dev", "vxh", "dst", hosts[2].underlay]);
        const adopted = await vxlanProvider.create({ ...b.inputs, adopt: true });
        assert.equal((await link("vxh", b.h.ns))?.ifalias, b.inputs.owner);
        for (const m of [a, { ...b, ...adopted }, made[2]]) await vxlanProvider.delete!(m.id, m.outs);
        for (const h of hosts) assert.equal(await link("vxh", h.ns), undefined);
    });

    it("a flood list that cannot be written fails the create, and the device it made goes", async () => {
        const h = hosts[0];
        // `bridge` failing as the kernel would (a stand-in first on PATH, for this create only): the device is made, its list is not.
        const dir = mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-fail-"));
        writeFileSync(path.join(dir, "bridge"), "#!/bin/sh\necho 'RTNETLINK answers: No buffer space available' >&2\nexit 2\n", { mode: 0o755 });
        const inputs = await checked(vxlanProvider, { name: "vxh", vni: 4243, local: h.underlay, remotes: [hosts[1].underlay], device: "ul0", master: "br0", netns: h.ns, owner: owner("Vxlan", "half") });
        const saved = process.env.PATH;
        process.env.PATH = `${dir}:${saved}`;
        let cmds: string[][] = [];
        try {
            cmds = await commandsDuring(() => assert.rejects(vxlanProvider.create(inputs), /No buffer space available/));
        } finally {
            process.env.PATH = saved;
            rmSync(dir, { recursive: true, force: true });
        }
        assert.ok(cmds.some((c) => c[0] === "bridge"), "the flood list was tried after the device was made");
        assert.equal(await link("vxh", h.ns), undefined, "the half-made device is gone");
        assert.deepEqual((await sh(["ip", "-n", h.ns, "-json", "link", "show", "type", "vxlan"])).trim(), "[]");
    });
});
