import { strict as assert } from "assert";
import { routeProvider } from "../../provider/resources/route";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, routes, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

const O = owner("Route", "r");

describe("resources/route: check and diff (no commands)", () => {
    it("validates gateway/device, families and networks, running nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(routeProvider, { destination: "default", gateway: "10.1.1.3", owner: O }), {
                destination: "default", gateway: "10.1.1.3", owner: O,
            });
            assert.deepEqual(await failedProperties(routeProvider, { destination: "default", owner: O }), ["gateway"]);
            assert.deepEqual(await failedProperties(routeProvider, { destination: "10.0.0.0/8", gateway: "fd00::1", owner: O }), ["gateway"]);
            assert.deepEqual(await failedProperties(routeProvider, { destination: "10.1.1.0/8", device: "eth0", owner: O }), ["destination"]);
            assert.deepEqual(await failedProperties(routeProvider, { destination: "nowhere", device: "eth0", metric: -1, owner: O }), ["destination", "metric"]);
            assert.equal((await checked(routeProvider, { destination: "10.0.0.0/8", device: "eth0", table: "local", owner: O })).table, "local");
            assert.deepEqual(await failedProperties(routeProvider, { destination: "10.0.0.0/8", device: "eth0", table: "mian", owner: O }), ["table"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("says what is wrong with a destination, and suggests the network of one with host bits set", async () => {
        const reason = async (destination: string) => (await routeProvider.check!({}, { destination, device: "eth0", owner: O })).failures![0].reason;
        assert.equal(await reason("192.168.50.1/24"), 'must be "default" or a network prefix: has host bits set (192.168.50.1/24 is an address in 192.168.50.0/24, not a network): did you mean 192.168.50.0/24?');
        assert.match(await reason("192.168.50.256/24"), /octet 256 of "192\.168\.50\.256" is out of range \(0–255\)/);
        assert.match(await reason("10.0.0.0/33"), /prefix length \/33 is out of range: IPv4 allows \/0 to \/32/);
        assert.match(await reason("10.0.0.0"), /has no prefix length: add one/);
    });
    it("updates the next hop in place and replaces on identity changes", async () => {
        const o = { destination: "default", gateway: "10.0.0.1", table: "main", owner: O, family: 4 };
        assert.deepEqual(await routeProvider.diff!("x", o, { ...o, gateway: "10.0.0.2" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await routeProvider.diff!("x", o, { ...o, metric: 5 }), { changes: true, replaces: ["metric"], deleteBeforeReplace: true });
        assert.deepEqual(await routeProvider.diff!("x", o, { ...o, gateway: "fd00::1" }), { changes: true, replaces: ["gateway"], deleteBeforeReplace: true });
        assert.deepEqual(await routeProvider.diff!("x", o, { ...o, family: 4 }), { changes: false, replaces: [], deleteBeforeReplace: true });
    });
});

describePrivileged("resources/route: against the kernel", () => {
    let ns: string;
    beforeEach(async () => {
        ns = freshNetnsName();
        await sh(["ip", "netns", "add", ns]);
        await sh(["ip", "-n", ns, "link", "add", "name", "d0", "type", "veth", "peer", "name", "d1"]);
        await sh(["ip", "-n", ns, "link", "set", "dev", "d0", "up"]);
        await sh(["ip", "-n", ns, "link", "set", "dev", "d1", "up"]);
        await sh(["ip", "-n", ns, "address", "add", "10.9.0.1/24", "dev", "d0"]);
        await sh(["ip", "-n", ns, "address", "add", "fd09::1/64", "dev", "d0", "nodad"]);
    });
    afterEach(() => sh(["ip", "netns", "del", ns]));

    const find = async (dst: string, family: 4 | 6 = 4) => (await routes(ns, { family })).find((r) => r.dst === dst);

    it("creates a default route, updates its gateway, detects drift and deletes it", async () => {
        const inputs = await checked(routeProvider, { destination: "default", gateway: "10.9.0.254", netns: ns, owner: O });
        const { id, outs } = await routeProvider.create(inputs);
        let r = await find("default");
        assert.equal(r?.gateway, "10.9.0.254");
        assert.equal(String(r?.protocol), "250");
        assert.deepEqual((await routeProvider.read!(id, outs)).props, outs);

        const upd = await routeProvider.update!(id, outs, { ...inputs, gateway: "10.9.0.253" });
        assert.equal((await find("default"))?.gateway, "10.9.0.253");

        await sh(["ip", "-n", ns, "route", "replace", "default", "via", "10.9.0.252", "proto", "250"]);
        assert.equal((await routeProvider.read!(id, upd!.outs)).props!.gateway, "10.9.0.252");

        await sh(["ip", "-n", ns, "route", "del", "default"]);
        assert.equal((await routeProvider.read!(id, upd!.outs)).id, "");
        await routeProvider.delete!(id, upd!.outs);

        const again = await routeProvider.create(inputs);
        await routeProvider.delete!(again.id, again.outs);
        assert.equal(await find("default"), undefined);
    });

    it("handles IPv6, device-only routes, tables and metrics", async () => {
        const v6 = await routeProvider.create(await checked(routeProvider, { destination: "fd10::/64", gateway: "fd09::2", netns: ns, owner: O }));
        assert.equal((await find("fd10::/64", 6))?.gateway, "fd09::2");
        const dev = await routeProvider.create(await checked(routeProvider, { destination: "10.20.0.0/16", device: "d0", metric: 7, table: 100, netns: ns, owner: O }));
        const t100 = await routes(ns, { table: 100 });
        assert.ok(t100.some((r) => r.dst === "10.20.0.0/16" && r.dev === "d0" && r.metric === 7), JSON.stringify(t100));
        assert.deepEqual((await routeProvider.read!(dev.id, dev.outs)).props, dev.outs);
        await routeProvider.delete!(v6.id, v6.outs);
        await routeProvider.delete!(dev.id, dev.outs);
        assert.equal(await find("fd10::/64", 6), undefined);
        assert.deepEqual(await routes(ns, { table: 100 }), []);
    });

    it("explains a gateway no link of the namespace has a network for (a route created before its link), changing nothing", async () => {
        for (const [gateway, netns] of [["10.77.0.1", ns], ["fd77::1", ns], ["10.77.0.1", undefined]] as const) {
            const inputs = await checked(routeProvider, { destination: "default", gateway, netns, metric: 77, owner: O });
            await assert.rejects(
                routeProvider.create(inputs),
                (err: Error) => {
                    assert.match(err.message, new RegExp(`^gateway ${gateway} is not reachable in ${netns ? `namespace "${netns}"` : "the root namespace"}: no link there has an address on its network \\(yet\\)`));
                    assert.match(err.message, /make the route depend on it: pass its output \(e\.g\. netns: veth\.peerNetns, device: veth\.peerName\) or add \{ dependsOn: \[veth\] \}/);
                    assert.match(err.message, /Nexthop has invalid gateway|No route to host/, "the kernel's own words are kept");
                    return true;
                },
            );
        }
        assert.equal((await routes(ns, { family: 4 })).find((r) => r.dst === "default"), undefined);
        assert.equal((await routes(ns, { family: 6 })).find((r) => r.dst === "default"), undefined);
    });

    it("refuses a route it did not make and leaves it alone", async () => {
        await sh(["ip", "-n", ns, "route", "add", "10.30.0.0/16", "via", "10.9.0.9"]);
        const inputs = await checked(routeProvider, { destination: "10.30.0.0/16", gateway: "10.9.0.8", netns: ns, owner: O });
        await assert.rejects(routeProvider.create(inputs), /already exists .* not made by pulumi-netns/);
        await routeProvider.delete!("x", { ...inputs, family: 4 });
        assert.equal((await find("10.30.0.0/16"))?.gateway, "10.9.0.9");
    });
});
