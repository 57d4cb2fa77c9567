import { strict as assert } from "assert";
import { vethPairProvider } from "../../provider/resources/veth";
import { UNKNOWN } from "../../provider/core/schema";
import { describePrivileged, requireTool } from "../helpers/sandbox";
import { existsSync } from "fs";
import { addrs, freshNetnsName, iperf3, link, ping, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

const O = owner("VethPair", "v");

describe("resources/veth: check and diff (no commands)", () => {
    it("validates and normalises, running nothing", async () => {
        const cmds = await commandsDuring(async () => {
            const inputs = await checked(vethPairProvider, { name: "veth0", peerName: "veth1", addresses: ["FD00:0::1/64"], owner: O });
            assert.deepEqual(inputs, { name: "veth0", peerName: "veth1", addresses: ["fd00::1/64"], owner: O });
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "veth0", peerName: "veth0", owner: O }), ["peerName"]);
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "veth0-too-long-x", peerName: "p", mtu: 10, owner: O }), ["mtu", "name"]);
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", addresses: ["10.0.0.1"], owner: O }), ["addresses.0"]);
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", rate: "0mbit", owner: O }), ["rate"]);
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", rate: "20mbits", owner: O }), ["rate"]);
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", burst: "32kb", owner: O }), ["burst"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("takes MACs as the kernel prints them, refusing multicast, zero and malformed ones at check, naming the property", async () => {
        const cmds = await commandsDuring(async () => {
            const inputs = await checked(vethPairProvider, { name: "a", peerName: "b", mac: "0A:BC:DE:F0:00:01", peerMac: "0a:bc:de:f0:00:02", owner: O });
            assert.deepEqual([inputs.mac, inputs.peerMac], ["0a:bc:de:f0:00:01", "0a:bc:de:f0:00:02"]);
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", mac: "01:00:5e:00:00:01", peerMac: "00:00:00:00:00:00", owner: O }), ["mac", "peerMac"]);
            for (const bad of ["0a:bc:de:f0:00", "0a-bc-de-f0-00-01", "0a:bc:de:f0:00:1", "0a:bc:de:f0:00:0g", " 0a:bc:de:f0:00:01", 42]) {
                assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", mac: bad, owner: O }), ["mac"], String(bad));
            }
            assert.deepEqual(await failedProperties(vethPairProvider, { name: "a", peerName: "b", mac: "0a:bc:de:f0:00:01", peerMac: "0A:BC:DE:F0:00:01", owner: O }), ["peerMac"]);
            const r = await vethPairProvider.check!({}, { name: "a", peerName: "b", mac: "03:00:00:00:00:01", owner: O });
            assert.deepEqual(r.failures, [{ property: "mac", reason: '03:00:00:00:00:01 is a multicast address (the lowest bit of its first byte is set): a link\'s own address must be unicast, e.g. "02:00:00:00:00:01"' }]);
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces on name or namespace changes, deleting first, and when a bridge it is on is not known yet", async () => {
        const o = { name: "a", peerName: "b", netns: "n1", addresses: [], peerAddresses: [], up: true, owner: O, mac: "m", peerMac: "p" };
        const diff = (n: object) => vethPairProvider.diff!("x", o, { ...o, ...n });
        assert.deepEqual(await diff({ addresses: ["10.0.0.1/24"] }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ master: "br0" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        // The engine replacing the bridge delete-first asks with the bridge's name unknown: the kernel detaches its ports.
        assert.deepEqual(await diff({ master: UNKNOWN }), { changes: true, replaces: ["master"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ peerMaster: UNKNOWN }), { changes: true, replaces: ["peerMaster"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ peerName: "c" }), { changes: true, replaces: ["peerName"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ name: "x", peerName: "y" }), { changes: true, replaces: ["name", "peerName"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ netns: "n2" }), { changes: true, replaces: ["netns"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ mac: "m" }), { changes: false, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ mtu: undefined }), { changes: false, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ mac: "0a:00:00:00:00:01" }), { changes: true, replaces: [], deleteBeforeReplace: true }, "a MAC changes in place");
        assert.deepEqual(await diff({ peerMac: "0a:00:00:00:00:02" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ mac: undefined, peerMac: undefined }), { changes: false, replaces: [], deleteBeforeReplace: true }, "omitted MACs are left alone");
        // A state written before `dad` and `ipv6LinkLocal` existed: they were false and true.
        assert.deepEqual(await diff({ dad: false, ipv6LinkLocal: true }), { changes: false, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ ipv6LinkLocal: false }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ dad: true }), { changes: true, replaces: [], deleteBeforeReplace: true });
    });
});

describePrivileged("resources/veth: against the kernel", () => {
    let a: string, b: string;
    beforeEach(async () => {
        a = freshNetnsName();
        b = freshNetnsName();
        await sh(["ip", "netns", "add", a]);
        await sh(["ip", "netns", "add", b]);
    });
    afterEach(async () => {
        await sh(["ip", "netns", "del", a]);
        await sh(["ip", "netns", "del", b]);
    });

    it("creates both ends in place, reads drift back, updates and deletes (two namespaces, a direct veth)", async () => {
        const inputs = await checked(vethPairProvider, {
            name: "veth1", netns: a, addresses: ["192.168.1.1/24"],
            peerName: "veth2", peerNetns: b, peerAddresses: ["192.168.1.2/24"], mtu: 1400, owner: O,
        });
        const { id, outs } = await vethPairProvider.create(inputs);
        const end = (await link("veth1", a))!;
        const peer = (await link("veth2", b))!;
        assert.equal(end.linkinfo?.info_kind, "veth");
        assert.equal(end.ifalias, O);
        assert.equal(peer.ifalias, O);
        assert.equal(end.mtu, 1400);
        assert.ok(end.flags.includes("UP") && peer.flags.includes("UP"));
        assert.equal(outs.mac, end.address);
        assert.equal(outs.peerMac, peer.address);
        assert.deepEqual(await addrs("veth1", a), ["192.168.1.1/24"]);
        assert.deepEqual(await addrs("veth2", b), ["192.168.1.2/24"]);
        assert.ok(await ping(a, "192.168.1.2"), "ns a reaches ns b over the pair");

        assert.deepEqual((await vethPairProvider.read!(id, outs)).props, outs, "no drift right after create");

        await sh(["ip", "-n", a, "address", "del", "192.168.1.1/24", "dev", "veth1"]);
        await sh(["ip", "-n", a, "link", "set", "dev", "veth1", "mtu", "1300", "down"]);
        const drifted = (await vethPairProvider.read!(id, outs)).props!;
        assert.deepEqual(drifted.addresses, []);
        assert.equal(drifted.mtu, 1300);
        assert.equal(drifted.up, false);
        assert.equal((await vethPairProvider.diff!(id, drifted, inputs)).changes, true);

        const updated = await vethPairProvider.update!(id, drifted, { ...inputs, addresses: ["192.168.1.1/24", "fd00::1/64"] });
        assert.deepEqual(await addrs("veth1", a), ["192.168.1.1/24", "fd00::1/64"]);
        assert.equal((await link("veth1", a))!.mtu, 1400);
        assert.ok((await link("veth1", a))!.flags.includes("UP"));
        assert.equal(Object.values(updated!.outs).includes(undefined), false);

        await vethPairProvider.delete!(id, updated!.outs);
        assert.equal(await link("veth1", a).catch(() => undefined), undefined);
        assert.equal(await link("veth2", b).catch(() => undefined), undefined);
        await vethPairProvider.delete!(id, updated!.outs);
        assert.deepEqual(await vethPairProvider.read!(id, updated!.outs), { id: "", props: {} });
    });

    it("ipv6LinkLocal: false gives neither end an IPv6 link-local address nor any IPv6 traffic of its own; drift read back, changed in place", async () => {
        /** Each end's addrgenmode, its link-local addresses, and the packets it sent, as the kernel reports them. */
        const v6 = async () => Promise.all([["x1", a], ["x2", b]].map(async ([dev, ns]) => {
            const [l] = JSON.parse(await sh(["ip", "-n", ns, "-json", "-details", "-statistics", "link", "show", "dev", dev]));
            const [ad] = JSON.parse(await sh(["ip", "-n", ns, "-json", "address", "show", "dev", dev]));
            const ll = (ad.addr_info as { family: string; scope: string; local: string }[]).filter((x) => x.family === "inet6" && x.scope === "link").map((x) => x.local);
            return { mode: l.inet6_addr_gen_mode, ll, tx: l.stats64.tx.packets };
        }));
        const inputs = await checked(vethPairProvider, { name: "x1", netns: a, peerName: "x2", peerNetns: b, peerAddresses: ["10.9.0.2/24"], ipv6LinkLocal: false, owner: O });
        const { id, outs } = await vethPairProvider.create(inputs);
        await new Promise((r) => setTimeout(r, 1500)); // DAD and MLD would have sent by now
        for (const end of await v6()) assert.deepEqual(end, { mode: "none", ll: [], tx: 0 });
        assert.deepEqual((await vethPairProvider.read!(id, outs)).props, outs, "no drift right after create");

        // By hand, one end gets link-local generation back (made when it next comes up): drift, put right in place.
        await sh(["ip", "-n", b, "link", "set", "dev", "x2", "addrgenmode", "eui64"]);
        await sh(["ip", "-n", b, "link", "set", "dev", "x2", "down"]);
        await sh(["ip", "-n", b, "link", "set", "dev", "x2", "up"]);
        assert.equal((await v6())[1].ll.length, 1);
        const drifted = (await vethPairProvider.read!(id, outs)).props!;
        assert.equal(drifted.ipv6LinkLocal, true);
        assert.deepEqual((await vethPairProvider.diff!(id, drifted, inputs)).changes, true);
        await vethPairProvider.update!(id, drifted, inputs);
        assert.deepEqual((await v6()).map((e) => [e.mode, e.ll]), [["none", []], ["none", []]]);

        // true, then false again: the kernel's default back, then the link-local addresses it made deleted.
        const on = await vethPairProvider.update!(id, outs, { ...inputs, ipv6LinkLocal: true });
        await sh(["ip", "-n", a, "link", "set", "dev", "x1", "down"]);
        await sh(["ip", "-n", a, "link", "set", "dev", "x1", "up"]); // a link makes its link-local address when it comes up
        const made = await v6();
        assert.deepEqual(made.map((e) => e.mode), ["eui64", "eui64"]);
        assert.equal(made[0].ll.length, 1, JSON.stringify(made));
        await vethPairProvider.update!(id, on!.outs, inputs);
        assert.deepEqual((await v6()).map((e) => [e.mode, e.ll]), [["none", []], ["none", []]]);
        assert.deepEqual((await vethPairProvider.read!(id, outs)).props, outs, "as declared again");
        await vethPairProvider.delete!(id, outs);
    });

    it("IPv6 answers at once after create (nodad), through a direct pair and through a bridge", async () => {
        const inputs = await checked(vethPairProvider, { name: "v6a", netns: a, addresses: ["fd00:6::1/64"], peerName: "v6b", peerNetns: b, peerAddresses: ["fd00:6::2/64"], owner: O });
        const { id, outs } = await vethPairProvider.create(inputs);
        // One echo request, one second to answer: a tentative address (DAD, ~2 s) cannot send or receive.
        assert.equal(await ping(a, "fd00:6::2"), true, "ping -6 right after create");
        assert.equal(await ping(b, "fd00:6::1"), true, "and back");
        const kernel = JSON.parse(await sh(["ip", "-n", a, "-json", "address", "show", "dev", "v6a"]))[0].addr_info.find((x: any) => x.local === "fd00:6::1");
        assert.equal(kernel.nodad, true, "the kernel lists the address as nodad");
        await vethPairProvider.delete!(id, outs);

        // A bridge with an IPv6 address, and a pair whose end joins it.
        await sh(["ip", "-n", a, "link", "add", "name", "br6", "type", "bridge"]);
        await sh(["ip", "-n", a, "link", "set", "br6", "up"]);
        await sh(["ip", "-n", a, "address", "add", "fd00:7::1/64", "dev", "br6", "nodad"]);
        const port = await checked(vethPairProvider, { name: "p6", netns: a, master: "br6", peerName: "e6", peerNetns: b, peerAddresses: ["fd00:7::2/64"], owner: O });
        const made = await vethPairProvider.create(port);
        assert.equal(await ping(b, "fd00:7::1"), true, "ping -6 to the bridge right after create");
        await vethPairProvider.delete!(made.id, made.outs);
    });

    it("with dad: true, waits for duplicate address detection, and fails clearly on dadfailed, leaving nothing", async () => {
        const inputs = await checked(vethPairProvider, { name: "d6a", netns: a, addresses: ["fd00:8::1/64"], peerName: "d6b", peerNetns: b, peerAddresses: ["fd00:8::2/64"], dad: true, owner: O });
        const started = Date.now();
        const { id, outs } = await vethPairProvider.create(inputs);
        const waited = Date.now() - started;
        const info = JSON.parse(await sh(["ip", "-n", a, "-json", "address", "show", "dev", "d6a"]))[0].addr_info.find((x: any) => x.local === "fd00:8::1");
        assert.equal(info.tentative, undefined, `DAD finished before create returned (${waited} ms)`);
        assert.equal(info.nodad, undefined);
        assert.ok(waited > 500, `create waited for DAD (${waited} ms)`);
        assert.equal(await ping(a, "fd00:8::2"), true);
        await vethPairProvider.delete!(id, outs);

        // The same address on both ends of one link: each end's DAD sees the other's probe.
        const dup = await checked(vethPairProvider, { name: "d6c", netns: a, addresses: ["fd00:9::1/64"], peerName: "d6d", peerNetns: b, peerAddresses: ["fd00:9::1/64"], dad: true, owner: O });
        await assert.rejects(vethPairProvider.create(dup), /address fd00:9::1\/64 on link "d6[cd]" in namespace "t[^"]+" failed duplicate address detection \(dadfailed\): another node on that link already uses it/);
        assert.equal(await link("d6c", a), undefined, "the failed create removed its pair");
        assert.equal(await link("d6d", b), undefined);
    });

    it("rate limits both directions with a tbf of its own, measured with iperf3 (±25%), read back, and lifted again", async function () {
        requireTool(this, existsSync("/usr/bin/iperf3"), "iperf3");
        this.timeout(60000);
        const inputs = await checked(vethPairProvider, { name: "r0", netns: a, addresses: ["10.42.0.1/24"], peerName: "r1", peerNetns: b, peerAddresses: ["10.42.0.2/24"], rate: "20mbit", owner: O });
        const { id, outs } = await vethPairProvider.create(inputs);
        const qdisc = async (ns: string, dev: string) => (JSON.parse(await sh(["tc", "-n", ns, "-j", "qdisc", "show", "dev", dev, "root"])) as any[])[0];
        for (const [ns, dev] of [[a, "r0"], [b, "r1"]]) {
            const q = await qdisc(ns, dev);
            assert.equal(q.kind, "tbf");
            assert.equal(q.options.rate, 2500000, "20 Mbit/s, in bytes per second");
        }
        const there = await iperf3(a, b, "10.42.0.2");
        const back = await iperf3(b, a, "10.42.0.1");
        for (const [what, mbit] of [["a → b", there], ["b → a", back]] as const) assert.ok(mbit > 15 && mbit < 25, `${what}: ${mbit.toFixed(1)} Mbit/s, not within 25% of 20`);
        assert.deepEqual((await vethPairProvider.read!(id, outs)).props, outs, "read back as declared");
        await sh(["tc", "-n", a, "qdisc", "del", "dev", "r0", "root"]);
        assert.equal((await vethPairProvider.read!(id, outs)).props!.rate, undefined, "a removed limit is drift");
        const { rate: _r, ...unlimited } = inputs;
        await vethPairProvider.update!(id, outs, unlimited);
        for (const [ns, dev] of [[a, "r0"], [b, "r1"]]) assert.notEqual((await qdisc(ns, dev))?.kind, "tbf");
        const free = await iperf3(a, b, "10.42.0.2");
        assert.ok(free > 50, `unlimited again: ${free.toFixed(0)} Mbit/s`);
        await vethPairProvider.delete!(id, outs);
    });

    it("attaches to and detaches from a bridge", async () => {
        await sh(["ip", "-n", a, "link", "add", "name", "br0", "type", "bridge"]);
        const inputs = await checked(vethPairProvider, { name: "h0", netns: a, master: "br0", peerName: "c0", peerNetns: b, owner: O });
        const { id, outs } = await vethPairProvider.create(inputs);
        assert.equal((await link("h0", a))!.master, "br0");
        const { master, ...rest } = inputs;
        await vethPairProvider.update!(id, outs, rest);
        assert.equal((await link("h0", a))!.master, undefined);
        await vethPairProvider.delete!(id, outs);
    });

    it("leaves nothing behind when a create fails half-way, and the error names the command", async () => {
        const inputs = await checked(vethPairProvider, { name: "h1", netns: a, master: "nosuchbr", peerName: "c1", peerNetns: b, owner: O });
        await assert.rejects(vethPairProvider.create(inputs), (err: any) => {
            assert.match(err.message, /`ip -n \S+ -batch -` \(reading: \["link add name h1 .*","link set dev h1 master nosuchbr/);
            assert.ok(err.exitCode > 0 && /nosuchbr/.test(err.stderr + err.message));
            return true;
        });
        assert.equal(await link("h1", a).catch(() => undefined), undefined);
        assert.equal(await link("c1", b).catch(() => undefined), undefined);
        // The same when the other end's configuration (its netns exec lines) fails.
        const late = await checked(vethPairProvider, { name: "h1", netns: a, peerName: "c1", peerNetns: b, peerMaster: "nosuchbr", owner: O });
        await assert.rejects(vethPairProvider.create(late), /reading: \["link add name h1 .*","netns exec \S+ ip link set dev c1 master nosuchbr/);
        assert.equal(await link("h1", a).catch(() => undefined), undefined);
        assert.equal(await link("c1", b).catch(() => undefined), undefined);
    });

    it("makes a pair with an end in the root namespace from there, in one process", async () => {
        const inputs = await checked(vethPairProvider, { name: "c4", netns: a, addresses: ["10.4.0.2/24"], peerName: "rootend4", peerAddresses: ["10.4.0.1/24"], owner: O });
        let made: Awaited<ReturnType<typeof vethPairProvider.create>> | undefined;
        const cmds = await commandsDuring(async () => (made = await vethPairProvider.create(inputs)));
        try {
            assert.deepEqual(cmds, [["ip", "-batch", "-"]], "link add and both ends' settings, the other end's through netns exec");
            const [end, peer] = [(await link("c4", a))!, (await link("rootend4"))!];
            assert.equal(end.ifalias, O);
            assert.equal(peer.ifalias, O);
            assert.deepEqual([made!.outs.mac, made!.outs.peerMac], [end.address, peer.address]);
            assert.deepEqual(await addrs("rootend4"), ["10.4.0.1/24"]);
            assert.ok(await ping(a, "10.4.0.1"), "the namespace reaches the root end");
        } finally {
            await vethPairProvider.delete!(made!.id, made!.outs);
        }
        assert.equal(await link("rootend4").catch(() => undefined), undefined);
    });

    it("refuses a link it does not own and does not touch it", async () => {
        await sh(["ip", "-n", a, "link", "add", "name", "taken", "type", "bridge"]);
        const inputs = await checked(vethPairProvider, { name: "taken", netns: a, peerName: "c2", peerNetns: b, owner: O });
        await assert.rejects(vethPairProvider.create(inputs), /link "taken" already exists in namespace .* not owned/);
        const peerTaken = await checked(vethPairProvider, { name: "new0", netns: a, peerName: "taken", peerNetns: a, owner: O });
        await assert.rejects(vethPairProvider.create(peerTaken), /link "taken" already exists/);
        assert.equal(await link("new0", a).catch(() => undefined), undefined, "nothing created when the peer name is taken");
        await vethPairProvider.delete!("x", { ...inputs, mac: "", peerMac: "" });
        assert.equal((await link("taken", a))!.linkinfo!.info_kind, "bridge");
    });

    it("makes both ends with the declared MACs, changes them in place while up, reads drift and puts them back", async () => {
        const [m, p] = ["0a:bc:de:f0:00:01", "0a:bc:de:f0:00:02"];
        const inputs = await checked(vethPairProvider, { name: "m0", netns: a, addresses: ["10.5.0.1/24"], peerName: "m1", peerNetns: b, peerAddresses: ["10.5.0.2/24"], mac: m.toUpperCase(), peerMac: p, owner: O });
        const { id, outs } = await vethPairProvider.create(inputs);
        assert.deepEqual([(await link("m0", a))!.address, (await link("m1", b))!.address], [m, p]);
        assert.deepEqual([outs.mac, outs.peerMac], [m, p]);
        assert.deepEqual((await vethPairProvider.read!(id, outs)).props, outs, "no drift right after create");

        const changed = { ...inputs, mac: "0a:bc:de:f0:00:11", peerMac: "0a:bc:de:f0:00:12" };
        assert.deepEqual(await vethPairProvider.diff!(id, outs, changed), { changes: true, replaces: [], deleteBeforeReplace: true });
        const { outs: outs2 } = await vethPairProvider.update!(id, outs, changed);
        const [e, q] = [(await link("m0", a))!, (await link("m1", b))!];
        assert.deepEqual([e.address, q.address], ["0a:bc:de:f0:00:11", "0a:bc:de:f0:00:12"], "changed in place");
        assert.ok(e.flags.includes("UP") && q.flags.includes("UP"));
        assert.deepEqual([outs2.mac, outs2.peerMac], ["0a:bc:de:f0:00:11", "0a:bc:de:f0:00:12"]);
        assert.ok(await ping(a, "10.5.0.2"), "the pair still carries traffic");

        // Changed by hand: read shows it, and the next update puts the declared one back.
        await sh(["ip", "-n", b, "link", "set", "dev", "m1", "address", "0a:bc:de:f0:00:99"]);
        const drifted = (await vethPairProvider.read!(id, outs2)).props!;
        assert.equal(drifted.peerMac, "0a:bc:de:f0:00:99");
        assert.equal((await vethPairProvider.diff!(id, drifted, changed)).changes, true);
        await vethPairProvider.update!(id, drifted, changed);
        assert.equal((await link("m1", b))!.address, "0a:bc:de:f0:00:12", "put back");

        // Not declared: a MAC changed by hand is read, and left alone.
        const { mac: _m, peerMac: _p, ...undeclared } = changed;
        await sh(["ip", "-n", a, "link", "set", "dev", "m0", "address", "0a:bc:de:f0:00:98"]);
        const read = (await vethPairProvider.read!(id, outs2)).props!;
        assert.equal(read.mac, "0a:bc:de:f0:00:98");
        assert.equal((await vethPairProvider.diff!(id, read, undeclared)).changes, false);
        await vethPairProvider.delete!(id, outs2);
        assert.equal(await link("m0", a), undefined);
    });

    it("never takes, changes or deletes a pair made by hand because its MACs are the declared ones", async () => {
        const [m, p] = ["0a:bc:de:f0:00:21", "0a:bc:de:f0:00:22"];
        await sh(["ip", "-n", a, "link", "add", "name", "s0", "address", m, "type", "veth", "peer", "name", "s1", "address", p, "netns", b]);
        await sh(["ip", "-n", a, "link", "set", "s0", "up"]);
        await sh(["ip", "-n", b, "link", "set", "s1", "up"]);
        const untouched = async () => {
            const [e, q] = [(await link("s0", a))!, (await link("s1", b))!];
            assert.deepEqual([e.address, q.address, e.ifalias, q.ifalias], [m, p, undefined, undefined], "the hand-made pair is as it was");
            assert.deepEqual(await addrs("s0", a), []);
        };
        const decl = { name: "s0", netns: a, peerName: "s1", peerNetns: b, mac: m, peerMac: p, owner: O };
        await assert.rejects(vethPairProvider.create(await checked(vethPairProvider, decl)), /link "s0" already exists in namespace .* not owned by this resource/);
        await untouched();
        await assert.rejects(vethPairProvider.create(await checked(vethPairProvider, { ...decl, addresses: ["10.6.0.1/24"], adopt: true })), /cannot adopt veth pair "s0"\/"s1": it differs from the declaration \(addresses: declared \["10\.6\.0\.1\/24"\], found \[\]\)/);
        await untouched();
        // A create that fails before its `link add` ran (the peer's namespace does not exist) deletes nothing.
        await assert.rejects(vethPairProvider.create(await checked(vethPairProvider, { ...decl, peerName: "s9", peerNetns: "no-such-netns" })));
        await untouched();
        // adopt compares the MACs when declared, and takes the pair when they match.
        await assert.rejects(vethPairProvider.create(await checked(vethPairProvider, { ...decl, peerMac: "0a:bc:de:f0:00:23", adopt: true })), /peerMac: declared "0a:bc:de:f0:00:23", found "0a:bc:de:f0:00:22"/);
        await untouched();
        const { outs } = await vethPairProvider.create(await checked(vethPairProvider, { ...decl, adopt: true }));
        assert.deepEqual([(await link("s0", a))!.ifalias, (await link("s1", b))!.address], [O, p]);
        assert.deepEqual([outs.mac, outs.peerMac], [m, p]);
        await vethPairProvider.delete!("x", outs);
    });

    it("adopts a pair it made when create runs again (crash before state was saved)", async () => {
        const inputs = await checked(vethPairProvider, { name: "h3", netns: a, peerName: "c3", peerNetns: b, addresses: ["10.3.0.1/24"], owner: O });
        await vethPairProvider.create(inputs);
        const { outs } = await vethPairProvider.create(inputs);
        assert.deepEqual(await addrs("h3", a), ["10.3.0.1/24"]);
        await vethPairProvider.delete!("x", outs);
    });
});
