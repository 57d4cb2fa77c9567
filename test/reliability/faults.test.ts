/**
 * Faults: partial failures inside a create, a crash between create and the engine saving state,
 * objects of the same name that are not ours, drift, deletes in any state. Each scenario asserts
 * the kernel's state (ip -json, iptables-save, sysctl -n) and ends with the leak check: the
 * sandbox's root namespace exactly as before (snapshotHost) and no namespace left.
 */
import { strict as assert } from "assert";
import { existsSync } from "fs";
import { handlers } from "../../provider/handlers";
import { describePrivileged } from "../helpers/sandbox";
import { addrs, freshNetnsName, iptablesSave, link, links, netnsList, routes, sh, snapshotHost, sysctl } from "../helpers/kernel";
import { destroy, Made, make, owner, read, rejection } from "../helpers/provider";

/** Fault scenarios run (counted for docs/safety.md's figures). */
export const FAULT_SCENARIOS: string[] = [];

describePrivileged("reliability: faults, with nothing leaked and nothing foreign touched", function () {
    let baseline: string;
    let spaces: string[] = [];
    /** A namespace made by hand for the scenario (not a resource). */
    const space = async () => {
        const n = freshNetnsName("f");
        await sh(["ip", "netns", "add", n]);
        spaces.push(n);
        return n;
    };
    before(async () => {
        // The first rule in a table creates it (empty ever after): done once, so the snapshots compare like with like.
        for (const [t, c] of [["filter", "FORWARD"], ["nat", "POSTROUTING"]]) {
            for (const cmd of ["iptables", "ip6tables"]) for (const op of ["-A", "-D"]) await sh([cmd, "-w", "-t", t, op, c, "-j", "RETURN"]);
        }
    });
    beforeEach(async () => {
        spaces = [];
        baseline = await snapshotHost();
    });
    afterEach(async function () {
        for (const n of spaces) if ((await netnsList()).includes(n)) await sh(["ip", "netns", "del", n]);
        if (this.currentTest?.state === "passed") {
            assert.equal(await snapshotHost(), baseline, "leak check: the root namespace is exactly as before");
            assert.deepEqual(await netnsList(), []);
        }
    });
    const scenario = (title: string, fn: () => Promise<void>) => {
        FAULT_SCENARIOS.push(title);
        it(title, fn);
    };

    scenario("partial create: master bridge missing → error names the command, no veth left", async () => {
        const ns = await space();
        const err = await rejection(make("VethPair", "p1", { name: "h0", master: "nobr0", peerName: "eth0", peerNetns: ns }));
        assert.match(err.message, /command `ip -batch -` \(reading: .*master nobr0.*\) failed/);
        assert.deepEqual((await links(ns)).map((l) => l.ifname), ["lo"]);
    });

    scenario("partial create: peer namespace vanished → error names `ip link add`, no veth left", async () => {
        const ns = await space();
        await sh(["ip", "netns", "del", ns]);
        const err = await rejection(make("VethPair", "p2", { name: "h0", peerName: "eth0", peerNetns: ns }));
        assert.match(err.message, new RegExp(`command \`ip -batch -\` \\(reading: \\["link add name h0 .* netns ${ns}",.*\\) failed.*Invalid "netns" value`));
        assert.equal(await link("h0"), undefined);
    });

    scenario("partial create: peer name taken by a foreign link → clear error, foreign link untouched, nothing of ours left", async () => {
        const ns = await space();
        await sh(["ip", "-n", ns, "link", "add", "name", "eth0", "type", "bridge"]);
        const foreign = JSON.stringify(await link("eth0", ns));
        const err = await rejection(make("VethPair", "p3", { name: "h0", peerName: "eth0", peerNetns: ns }));
        assert.match(err.message, new RegExp(`link "eth0" already exists in namespace "${ns}" and is not owned by this resource \\(no pulumi-netns marker yet: .*; kind bridge\\)`));
        assert.equal(JSON.stringify(await link("eth0", ns)), foreign);
        assert.equal(await link("h0"), undefined);
    });

    scenario("partial create: route via an unreachable gateway, bridge and rule in a vanished namespace → errors name the command, nothing made", async () => {
        const ns = await space();
        let err = await rejection(make("Route", "r1", { destination: "10.9.0.0/16", gateway: "10.99.0.1", netns: ns }));
        assert.match(err.message, /command `ip (-n \S+ )?-batch -` \(reading: \["(netns exec \S+ ip )?route add 10\.9\.0\.0\/16 [^"]*"\]\) failed with exit code 1/);
        assert.deepEqual(await routes(ns), []);
        await sh(["ip", "netns", "del", ns]);
        err = await rejection(make("Bridge", "b1", { name: "br0", netns: ns }));
        assert.match(err.message, /command `ip -n \S+ -batch -` \(reading: \["link add name br0 .*type bridge",.*\) failed.*Cannot open network namespace/);
        err = await rejection(make("MasqueradeRule", "m1", { source: "10.1.0.0/16", netns: ns }));
        assert.match(err.message, /command `ip netns exec \S+ iptables -w -t nat -C POSTROUTING .*` failed.*Cannot open network namespace/);
        err = await rejection(make("SysctlForward", "s1", { netns: ns }));
        assert.match(err.message, /command `ip netns exec \S+ sysctl -n net.ipv4.ip_forward` failed/);
    });

    scenario("crash between create and save, all seven resources: the second create adopts, one object each", async () => {
        const peer = await space();
        const args: [Made["kind"], Record<string, unknown>][] = [
            ["Netns", { name: freshNetnsName("c") }],
            ["Bridge", { name: "br0", netns: peer, addresses: ["10.5.0.1/24"] }],
            ["VethPair", { name: "h0", peerName: "eth0", peerNetns: peer, master: undefined, addresses: ["10.6.0.1/24"], peerAddresses: ["10.6.0.2/24"] }],
            ["Route", { destination: "10.7.0.0/24", gateway: "10.6.0.1", netns: peer }],
            ["MasqueradeRule", { source: "10.5.0.0/24", netns: peer }],
            ["ForwardRule", { inInterface: "br0", netns: peer }],
            ["SysctlForward", { netns: peer }],
        ];
        const made: Made[] = [];
        for (const [kind, a] of args) {
            const first = await make(kind, "crash", a); // its result is "lost"
            const again = await make(kind, "crash", a);
            assert.deepEqual(again.outs, first.outs, `${kind}: the second create reports the same object`);
            made.push(again);
        }
        assert.equal((await netnsList()).filter((n) => n === args[0][1].name).length, 1);
        assert.equal((await links(peer)).filter((l) => l.ifname === "br0").length, 1);
        assert.equal((await links()).filter((l) => l.ifname === "h0").length, 1);
        assert.equal((await routes(peer)).filter((r) => r.dst === "10.7.0.0/24").length, 1);
        const rules = await iptablesSave(peer);
        assert.equal(rules.split(owner("MasqueradeRule", "crash")).length - 1, 1);
        assert.equal(rules.split(owner("ForwardRule", "crash")).length - 1, 1);
        // SysctlForward's marker file kept the value found by the first create: 0, not the 1 it set.
        assert.equal(made[6].outs.previousIpv4, 0);
        assert.equal(await sysctl("net.ipv4.ip_forward", peer), "1");
        for (const m of made.reverse()) await destroy(m);
        assert.equal(await sysctl("net.ipv4.ip_forward", peer), "0", "restored although the first create's result was lost");
        assert.ok(!existsSync(`/run/pulumi-netns/sysctl/${owner("SysctlForward", "crash").replace(":", "_")}`));
        assert.deepEqual(await routes(peer), []);
        assert.doesNotMatch(await iptablesSave(peer), /pulumi-netns/);
    });

    scenario("same name, not ours (namespace, bridge, veth, route): clear error, the object is not modified", async () => {
        const ns = await space();
        await sh(["ip", "-n", ns, "link", "add", "name", "br0", "type", "bridge"]);
        await sh(["ip", "-n", ns, "link", "set", "br0", "alias", "someone-else"]);
        await sh(["ip", "-n", ns, "link", "add", "name", "v0", "type", "veth", "peer", "name", "v1"]);
        await sh(["ip", "-n", ns, "addr", "add", "10.3.0.1/24", "dev", "v0"]);
        await sh(["ip", "-n", ns, "link", "set", "v0", "up"]);
        await sh(["ip", "-n", ns, "route", "add", "10.4.0.0/24", "via", "10.3.0.2"]);
        const state = async () => JSON.stringify([await links(ns), await addrs("v0", ns), await routes(ns), await netnsList()]);
        const was = await state();
        const cases: [Made["kind"], Record<string, unknown>, RegExp][] = [
            ["Netns", { name: ns }, /namespace "\S+" already exists and is not owned by this resource \(it has no pulumi-netns marker\): delete it first/],
            ["Bridge", { name: "br0", netns: ns }, /link "br0" already exists .* \(kind bridge, alias "someone-else"\)/],
            ["VethPair", { name: "v0", netns: ns, peerName: "v1", peerNetns: ns }, /link "v\d" already exists .* \(no pulumi-netns marker yet: .*; kind veth\)/],
            ["Route", { destination: "10.4.0.0/24", gateway: "10.3.0.9", netns: ns }, /a route to 10\.4\.0\.0\/24 .* already exists .* not made by pulumi-netns \(proto boot\)/],
        ];
        for (const [kind, a, message] of cases) {
            const err = await rejection(make(kind, "foreign", a));
            assert.match(err.message, message, `${kind}: ${err.message}`);
            // Delete with this resource's state must leave the foreign object alone too.
            await handlers[kind].delete!("x", { ...a, addresses: [], peerAddresses: [], table: "main", family: 4, owner: owner(kind, "foreign") });
        }
        assert.equal(await state(), was);
    });

    scenario("drift: namespace, link, address, route, rule and sysctl changed by hand are read back and restored", async () => {
        const ns = await make("Netns", "d", { name: freshNetnsName("d") });
        const n = ns.outs.name;
        const br = await make("Bridge", "d", { name: "br0", netns: n, addresses: ["10.2.0.1/24"], mtu: 1400 });
        const veth = await make("VethPair", "d", { name: "h0", netns: n, master: "br0", peerName: "p0", peerNetns: n, peerAddresses: ["10.3.0.2/24"] });
        const route = await make("Route", "d", { destination: "10.8.0.0/24", gateway: "10.3.0.1", netns: n });
        const rule = await make("ForwardRule", "d", { inInterface: "br0", netns: n });
        const fwd = await make("SysctlForward", "d", { netns: n });

        await sh(["ip", "-n", n, "link", "set", "lo", "down"]);
        await sh(["ip", "-n", n, "addr", "del", "10.2.0.1/24", "dev", "br0"]);
        await sh(["ip", "-n", n, "link", "set", "br0", "mtu", "1300", "down"]);
        await sh(["ip", "-n", n, "link", "set", "h0", "nomaster"]);
        await sh(["ip", "-n", n, "route", "change", "10.8.0.0/24", "via", "10.3.0.5", "proto", "250"]);
        await sh(["ip", "netns", "exec", n, "iptables", "-D", "FORWARD", "-i", "br0", "-m", "comment", "--comment", rule.outs.owner, "-j", "ACCEPT"]);
        await sh(["ip", "netns", "exec", n, "sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]);

        assert.equal((await read(ns)).props!.loopbackUp, false);
        assert.deepEqual(((await read(br)).props as any), { ...br.outs, addresses: [], mtu: 1300, up: false });
        assert.equal(((await read(veth)).props as any).master, undefined);
        assert.equal(((await read(route)).props as any).gateway, "10.3.0.5");
        assert.equal((await read(rule)).id, "", "a rule deleted by hand reads as gone");
        assert.equal(((await read(fwd)).props as any).ipv4, false);

        // The next `up`: update what drifted, create what is gone.
        for (const m of [ns, br, veth, route, fwd]) await handlers[m.kind].update!(m.id, (await read(m)).props!, m.inputs);
        await make("ForwardRule", "d", { inInterface: "br0", netns: n });
        assert.ok((await link("lo", n))!.flags.includes("UP"));
        assert.deepEqual(await addrs("br0", n), ["10.2.0.1/24"]);
        assert.equal((await link("br0", n))!.mtu, 1400);
        assert.equal((await link("h0", n))!.master, "br0");
        assert.equal((await routes(n)).find((r) => r.dst === "10.8.0.0/24")!.gateway, "10.3.0.1");
        assert.match(await iptablesSave(n), new RegExp(`-A FORWARD -i br0 -m comment --comment "?${rule.outs.owner}"? -j ACCEPT`));
        assert.equal(await sysctl("net.ipv4.ip_forward", n), "1");

        // A namespace deleted and recreated by someone else is not ours: read says gone, delete leaves it.
        await sh(["ip", "netns", "del", n]);
        await sh(["ip", "netns", "add", n]);
        assert.equal((await read(ns)).id, "");
        await destroy(ns);
        assert.ok((await netnsList()).includes(n));
        await sh(["ip", "netns", "del", n]);
    });

    scenario("namespace deleted by hand, taking its veths, route, rules and sysctl with it: every delete succeeds, twice", async () => {
        const ns = await make("Netns", "g", { name: freshNetnsName("g") });
        const n = ns.outs.name;
        const made = [
            ns,
            await make("Bridge", "g", { name: "br0", netns: n }),
            await make("VethPair", "g", { name: "h0", peerName: "eth0", peerNetns: n, peerMaster: "br0" }),
            await make("Route", "g", { destination: "default", device: "eth0", netns: n }),
            await make("MasqueradeRule", "g", { source: "10.1.0.0/16", netns: n }),
            await make("ForwardRule", "g", { outInterface: "eth0", netns: n }),
            await make("SysctlForward", "g", { netns: n, ipv6: true }),
        ];
        assert.ok(await link("h0"));
        await sh(["ip", "netns", "del", n]);
        // The kernel destroys a namespace's links asynchronously; the deletes must not care.
        for (const m of made.reverse()) {
            assert.equal((await read(m)).id, "", `${m.kind} reads as gone`);
            await destroy(m);
            await destroy(m);
        }
        for (let i = 0; i < 50 && (await link("h0")); i++) await new Promise((r) => setTimeout(r, 50));
        assert.equal(await link("h0"), undefined, "the kernel took the root end with the namespace");
    });

    scenario("destroy in any state: everything deleted twice, and deleted after being deleted by hand", async () => {
        const n = (await make("Netns", "h", { name: freshNetnsName("h") })).outs.name;
        const made = [
            await make("Bridge", "h", { name: "br0" }),
            await make("VethPair", "h", { name: "h0", peerName: "eth0", peerNetns: n }),
            await make("Route", "h", { destination: "10.1.0.0/16", device: "eth0", netns: n }),
            await make("MasqueradeRule", "h", { source: "10.1.0.0/16" }),
            await make("ForwardRule", "h", { inInterface: "br0" }),
        ];
        await sh(["ip", "link", "del", "br0"]);
        await sh(["ip", "link", "del", "h0"]);
        await sh(["iptables", "-t", "nat", "-D", "POSTROUTING", "-s", "10.1.0.0/16", "-m", "comment", "--comment", made[3].outs.owner, "-j", "MASQUERADE"]);
        for (const m of made.reverse()) {
            await destroy(m);
            await destroy(m);
        }
        await destroy({ kind: "Netns", id: n, inputs: {}, outs: { name: n, owner: owner("Netns", "h") } });
        await destroy({ kind: "Netns", id: n, inputs: {}, outs: { name: n, owner: owner("Netns", "h") } });
    });

    scenario("delete of a namespace still holding foreign links refuses, names them, touches nothing; succeeds once they are gone", async () => {
        const ns = await make("Netns", "k", { name: freshNetnsName("k") });
        const n = ns.outs.name;
        const ours = await make("VethPair", "k", { name: "in0", netns: n, peerName: "in1", peerNetns: n });
        await sh(["ip", "link", "add", "name", "theirs", "type", "veth", "peer", "name", "inside", "netns", n]);
        await sh(["ip", "-n", n, "link", "add", "name", "br9", "type", "bridge"]);
        await sh(["ip", "-n", n, "link", "add", "name", "pa", "type", "veth", "peer", "name", "pb"]); // both ends inside
        const err = await rejection(destroy(ns));
        assert.match(err.message, new RegExp(`namespace "${n}" still holds links that pulumi-netns did not make: inside \\(veth\\), br9 \\(bridge\\), p[ab] \\(veth\\), p[ab] \\(veth\\)`));
        // One command per link to delete: a pair with both ends inside is one (the second would fail: its peer went with the first).
        const deletes = /Delete them first \((.*)\), then run again/.exec(err.message)![1].split("; ");
        assert.deepEqual(deletes, [`ip -n ${n} link delete inside`, `ip -n ${n} link delete br9`, `ip -n ${n} link delete pa (also deletes its peer pb)`]);
        assert.ok((await netnsList()).includes(n));
        assert.ok(await link("theirs"), "the foreign veth's outside end survives");
        assert.ok(await link("in0", n), "our own links do not block, and are not deleted by the refusal");
        await sh(["ip", "link", "del", "theirs"]);
        await sh(["ip", "-n", n, "link", "del", "br9"]);
        await sh(["ip", "-n", n, "link", "del", "pa"]);
        await destroy(ns); // our own veth inside does not block
        assert.ok(!(await netnsList()).includes(n));
        await destroy(ours);
    });
});
