import * as assert from "assert";
import { describePrivileged, inSandbox } from "./sandbox";
import * as k from "./kernel";

describePrivileged("test harness: kernel helpers", () => {
    const ns = k.withFreshNetns();

    it("runs in a private netns with lo up", async () => {
        assert.ok(inSandbox());
        const lo = await k.link("lo");
        assert.ok(lo && lo.flags.includes("UP"));
        assert.ok(await k.ping(undefined, "127.0.0.1"));
    });

    it("creates a fresh netns per test, with only lo (down) in it", async () => {
        assert.ok((await k.netnsList()).includes(ns.name));
        const ls = await k.links(ns.name);
        assert.deepStrictEqual(ls.map((l) => l.ifname), ["lo"]);
        assert.ok(!ls[0].flags.includes("UP"));
        assert.deepStrictEqual(await k.addrs("lo", ns.name), []);
        assert.deepStrictEqual(await k.routes(ns.name), []);
        assert.strictEqual(await k.link("nope0", ns.name), undefined);
        assert.deepStrictEqual(await k.addrs("nope0", ns.name), []);
    });

    it("reads addrs, routes, sysctls, ping and iptables inside a netns", async () => {
        await k.sh(["ip", "-n", ns.name, "link", "set", "lo", "up"]);
        const d = k.uniqueIfName("d");
        assert.ok(d.length <= 15);
        const p = k.uniqueIfName("p");
        await k.sh(["ip", "-n", ns.name, "link", "add", d, "type", "veth", "peer", "name", p]);
        await k.sh(["ip", "-n", ns.name, "link", "set", d, "up"]);
        await k.sh(["ip", "-n", ns.name, "link", "set", p, "up"]);
        await k.sh(["ip", "-n", ns.name, "addr", "add", "10.77.0.1/24", "dev", d]);
        await k.sh(["ip", "-n", ns.name, "addr", "add", "fd77::1/64", "dev", d, "nodad"]);
        await k.sh(["ip", "-n", ns.name, "route", "add", "10.88.0.0/16", "via", "10.77.0.2", "table", "100"]);
        assert.deepStrictEqual((await k.addrs(d, ns.name)).sort(), ["10.77.0.1/24", "fd77::1/64"]);
        assert.strictEqual((await k.link(d, ns.name))?.linkinfo?.info_kind, "veth");
        assert.ok((await k.routes(ns.name)).some((r) => r.dst === "10.77.0.0/24" && r.dev === d));
        assert.ok((await k.routes(ns.name, { family: 6 })).some((r) => r.dst === "fd77::/64"));
        assert.deepStrictEqual((await k.routes(ns.name, { table: 100 })).map((r) => [r.dst, r.gateway]), [["10.88.0.0/16", "10.77.0.2"]]);
        assert.strictEqual(await k.sysctl("net.ipv4.ip_forward", ns.name), "0");
        assert.ok(await k.ping(ns.name, "10.77.0.1"));
        assert.ok(!(await k.ping(ns.name, "10.99.0.1")));
        const before = await k.iptablesSave(ns.name);
        assert.ok(!before.includes("#"));
        await k.sh(["ip", "netns", "exec", ns.name, "iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "10.77.0.0/24", "-j", "MASQUERADE"]);
        assert.match(await k.iptablesSave(ns.name), /-A POSTROUTING -s 10\.77\.0\.0\/24 -j MASQUERADE/);
        assert.strictEqual(await k.iptablesSave(ns.name), await k.iptablesSave(ns.name));
    });

    it("snapshotHost is stable and sees sandbox-root changes", async () => {
        const a = await k.snapshotHost();
        assert.strictEqual(await k.snapshotHost(), a);
        const d = k.uniqueIfName("s");
        await k.sh(["ip", "link", "add", d, "type", "veth", "peer", "name", k.uniqueIfName("s")]);
        try {
            assert.notStrictEqual(await k.snapshotHost(), a);
        } finally {
            await k.sh(["ip", "link", "del", d]);
        }
        assert.strictEqual(await k.snapshotHost(), a);
    });

    it("sh rejects with stderr", async () => {
        await assert.rejects(k.sh(["ip", "link", "show", "dev", "nope0"]), /nope0/);
        assert.strictEqual(await k.shOk(["false"]), false);
    });
});
