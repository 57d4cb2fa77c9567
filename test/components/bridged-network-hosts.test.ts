/**
 * BridgedNetwork spanning hosts and its rate inputs, without a kernel: the plan (addresses that do
 * not depend on the host), the arguments refused before anything runs (each naming the property and
 * the fix), and the resource graph under Pulumi's mocks (names, where each resource runs, the VXLAN
 * flood lists, the gateway and rules on one host). The kernel side is test/remote/multihost.test.ts.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { BridgedNetwork, planLan, type BridgedNetworkArgs } from "../../provider/components/bridged-network";
import { commandsDuring } from "../helpers/provider";

const A = { host: "10.77.0.2", user: "root" };
const B = { host: "10.77.0.3", user: "root" };
const C = { host: "10.77.0.4", user: "root" };
const base: BridgedNetworkArgs = {
    bridge: "br-mh",
    cidr: "10.90.0.0/24",
    connection: A,
    underlay: "192.0.2.2",
    peers: { beta: { connection: B, underlay: "192.0.2.3" }, gamma: { connection: C, underlay: "192.0.2.4", underlayDevice: "eth1" } },
    namespaces: ["a1", { name: "b1", host: "beta" }, { name: "c1", host: "gamma" }],
};

describe("components/bridged-network: spanning hosts, the plan (pure)", () => {
    it("gives a namespace the same address on whichever host it is", () => {
        const here = planLan({ bridge: "br-mh", cidr: "10.90.0.0/24", namespaces: ["a1", "b1", "c1"] });
        const spread = planLan(base);
        const moved = planLan({ ...base, namespaces: ["a1", { name: "b1", host: "gamma" }, "c1"] });
        for (const p of [spread, moved]) assert.deepEqual(p.members.map((m) => [m.netns, m.address, m.hostVeth]), here.members.map((m) => [m.netns, m.address, m.hostVeth]));
        assert.deepEqual(spread.members.map((m) => m.host), [undefined, "beta", "gamma"]);
    });

    it("plans one VXLAN device per host: derived VNI and name, port 4789, an MTU that fits the tunnel", () => {
        const p = planLan(base);
        assert.deepEqual(p.hosts.map((h) => [h.key, h.underlay, h.gateway]), [[undefined, "192.0.2.2", true], ["beta", "192.0.2.3", false], ["gamma", "192.0.2.4", false]]);
        assert.ok(p.vxlan!.vni >= 1 && p.vxlan!.vni <= 16777215);
        assert.match(p.vxlan!.name, /^vx-br-mh-[0-9a-f]{5}$/);
        assert.equal(p.vxlan!.dstPort, 4789);
        assert.equal(p.mtu, 1450);
        assert.notEqual(planLan({ ...base, cidr: "10.91.0.0/24" }).vxlan!.vni, p.vxlan!.vni, "another LAN over the same hosts gets another VNI");
        assert.deepEqual(planLan({ ...base, vxlan: { vni: 7, dstPort: 8472, name: "vx7" }, mtu: 1400 }).vxlan, { name: "vx7", vni: 7, dstPort: 8472 });
        assert.equal(planLan({ ...base, underlay: "fd00:2::2", peers: { beta: { underlay: "fd00:2::3" } }, namespaces: ["a1"] }).mtu, 1430, "IPv6 underlay: 20 bytes more of headers");
        assert.equal(planLan({ ...base, gatewayHost: "gamma" }).hosts.find((h) => h.gateway)!.key, "gamma");
        assert.equal(planLan({ bridge: "br0", cidr: "10.0.0.0/24", namespaces: ["x"] }).vxlan, undefined, "one host: no tunnel");
    });

    it("gives each member its own rate, else the LAN's (with the LAN's burst only with the LAN's rate)", () => {
        const p = planLan({ ...base, rate: "20mbit", burst: "64kb", namespaces: ["a1", { name: "b1", host: "beta", rate: "5mbit" }, { name: "c1", burst: "128kb" }] });
        assert.deepEqual(p.members.map((m) => [m.rate, m.burst]), [["20mbit", "64kb"], ["5mbit", undefined], ["20mbit", "128kb"]]);
    });
});

describe("components/bridged-network: spanning hosts, bad arguments refused before anything runs", () => {
    before(() => pulumi.runtime.setMocks({ newResource: (a) => ({ id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "proj", "dev", false));
    const cases: [string, Partial<BridgedNetworkArgs>, RegExp][] = [
        ["a member on an unknown host", { namespaces: [{ name: "b1", host: "betta" }] }, /namespaces\.0\.host: unknown host "betta" \(known: beta, gamma\): declare it under peers/],
        ["a host without peers", { peers: undefined, namespaces: [{ name: "b1", host: "beta" }] }, /namespaces\.0\.host: unknown host "beta" \(no peers declared\)/],
        ["an unknown gateway host", { gatewayHost: "delta" }, /gatewayHost: unknown host "delta"/],
        ["two hosts with one underlay address", { peers: { beta: { connection: B, underlay: "192.0.2.2" } } }, /peers\.beta\.underlay: 192\.0\.2\.2 is also this host's underlay: each host needs an address of its own/],
        ["two peers with one underlay address", { peers: { beta: { connection: B, underlay: "192.0.2.3" }, gamma: { connection: C, underlay: "192.0.2.3" } } }, /peers\.gamma\.underlay: 192\.0\.2\.3 is also host "beta"'s underlay/],
        ["underlays of two families", { peers: { beta: { connection: B, underlay: "fd00::3" } } }, /peers\.beta\.underlay: is IPv6 but this host's underlay is IPv4/],
        ["an underlay on the LAN itself", { underlay: "10.90.0.200" }, /underlay: 10\.90\.0\.200 is on the LAN's own network 10\.90\.0\.0\/24/],
        ["no underlay for this host", { underlay: undefined }, /underlay: a LAN spanning hosts needs this host's underlay address/],
        ["an underlay that is no address", { peers: { beta: { connection: B, underlay: "192.0.2.300" } } }, /peers\.beta\.underlay: must be an IPv4 or IPv6 address/],
        ["a VNI of 0", { vxlan: { vni: 0 } }, /vxlan\.vni: vni must be 1–16777215/],
        ["a VNI over 24 bits", { vxlan: { vni: 16777216 } }, /vxlan\.vni: vni must be 1–16777215/],
        ["port 0", { vxlan: { dstPort: 0 } }, /vxlan\.dstPort: dstPort must be 1–65535/],
        ["a misspelled vxlan key", { vxlan: { vnid: 5 } as never }, /vxlan\.vnid: unknown property 'vxlan\.vnid': did you mean 'vni'\?/],
        ["a misspelled host key", { peers: { beta: { connection: B, underlay: "192.0.2.3", devcie: "eth0" } as never } }, /peers\.beta\.devcie: unknown property/],
        ["a host name that cannot be part of a resource name", { peers: { "be ta": { connection: B, underlay: "192.0.2.3" } }, namespaces: [] }, /peers\.be ta: a host's name must be 1–32 letters, digits and '-'/],
        ["two hosts that are one machine", { peers: { beta: { connection: { ...A }, underlay: "192.0.2.3" } }, namespaces: [] }, /peers\.beta\.connection: reaches 10\.77\.0\.2:22, as the component's own host does/],
        ["a peer and the component both this machine", { connection: undefined, peers: { beta: { underlay: "192.0.2.3" } }, namespaces: [] }, /peers\.beta\.connection: reaches this machine/],
        ["a rate of 0", { rate: "0mbit" }, /rate: must be more than 0/],
        ["a member rate with an unknown unit", { namespaces: [{ name: "a1", rate: "20mbits" }] }, /namespaces\.0\.rate: must be a number and a unit/],
        ["a burst without a rate", { namespaces: [{ name: "a1", burst: "64kb" }] }, /namespaces\.0\.burst: burst needs a rate \(the namespace's or the LAN's\)/],
        ["a LAN burst without a rate", { burst: "64kb" }, /burst: burst needs a rate/],
        ["an mtu too small", { mtu: 40 }, /mtu: mtu must be at least 68/],
        ["a namespace whose resources would be a host's", { namespaces: ["beta-bridge"] }, /the bridge of peer "beta" and namespace "beta-bridge" would both be the resource "bad-beta-bridge": rename one/],
        ["a vxlan name that is the bridge's", { vxlan: { name: "br-mh" } }, /vxlan\.name: br-mh is also the name of the bridge/],
    ];
    for (const [what, override, message] of cases) {
        it(what, async () => {
            const cmds = await commandsDuring(async () => {
                assert.throws(() => new BridgedNetwork("bad", { ...base, ...override } as BridgedNetworkArgs), (err: Error) => {
                    assert.match(err.message, /^BridgedNetwork "bad": /);
                    assert.match(err.message, message);
                    return true;
                });
            });
            assert.deepEqual(cmds, []);
        });
    }
});

describe("components/bridged-network: spanning hosts, the resource graph under mocks", () => {
    const made: pulumi.runtime.MockResourceArgs[] = [];
    before(() => {
        made.length = 0;
        pulumi.runtime.setMocks({ newResource: (a) => (made.push(a), { id: `${a.name}-id`, state: a.inputs }), call: () => ({}) }, "proj", "dev", false);
    });
    const value = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply((v) => resolve(v)));
    /** Waits until the mocks have seen the component's resources (every one it exposes, and those registered with them). */
    const registered = (lan: BridgedNetwork) =>
        Promise.all([lan.bridge, lan.vxlan, ...Object.values(lan.peers).flatMap((p) => [p.bridge, p.vxlan]), ...Object.values(lan.members).flatMap((m) => [m.netns, m.veth, m.route])]
            .filter((r) => r !== undefined).map((r) => value(r!.urn)));

    it("a bridge and a VXLAN device per host, members where they are, the gateway and rules on gatewayHost only", async () => {
        const lan = new BridgedNetwork("lan", { ...base, gatewayHost: "beta", nat: { outInterface: "eth0" }, rate: "20mbit", namespaces: ["a1", { name: "b1", host: "beta", rate: "5mbit" }, { name: "c1", host: "gamma" }] });
        await registered(lan);
        const by = Object.fromEntries(made.filter((m) => m.type !== "netns:index:BridgedNetwork").map((m) => [m.name, m]));
        assert.deepEqual(Object.keys(by).sort(), [
            "lan-a1", "lan-a1-default", "lan-a1-veth", "lan-b1", "lan-b1-default", "lan-b1-veth", "lan-beta-bridge", "lan-beta-vxlan", "lan-bridge",
            "lan-c1", "lan-c1-default", "lan-c1-veth", "lan-forwarding", "lan-from-lan", "lan-gamma-bridge", "lan-gamma-vxlan", "lan-masquerade", "lan-to-lan", "lan-vxlan",
        ]);
        const host = (n: string) => (by[n].inputs.connection as { host?: string } | undefined)?.host;
        assert.deepEqual(["lan-bridge", "lan-vxlan", "lan-a1", "lan-a1-veth", "lan-a1-default"].map(host), Array(5).fill(A.host));
        assert.deepEqual(["lan-beta-bridge", "lan-beta-vxlan", "lan-b1", "lan-b1-veth", "lan-b1-default", "lan-from-lan", "lan-to-lan", "lan-masquerade", "lan-forwarding"].map(host), Array(9).fill(B.host));
        assert.deepEqual(["lan-gamma-bridge", "lan-gamma-vxlan", "lan-c1", "lan-c1-veth", "lan-c1-default"].map(host), Array(5).fill(C.host));
        assert.deepEqual([by["lan-bridge"].inputs.addresses, by["lan-beta-bridge"].inputs.addresses, by["lan-gamma-bridge"].inputs.addresses], [[], ["10.90.0.1/24"], []], "the gateway on beta only");
        const vx = (n: string) => by[n].inputs;
        assert.deepEqual([vx("lan-vxlan").remotes, vx("lan-beta-vxlan").remotes, vx("lan-gamma-vxlan").remotes], [["192.0.2.3", "192.0.2.4"], ["192.0.2.2", "192.0.2.4"], ["192.0.2.2", "192.0.2.3"]]);
        assert.deepEqual([vx("lan-vxlan").local, vx("lan-gamma-vxlan").device, vx("lan-vxlan").master, vx("lan-vxlan").mtu], ["192.0.2.2", "eth1", "br-mh", 1450]);
        assert.equal(new Set(["lan-vxlan", "lan-beta-vxlan", "lan-gamma-vxlan"].map((n) => vx(n).vni)).size, 1, "one VNI");
        assert.deepEqual(["lan-a1-veth", "lan-b1-veth", "lan-c1-veth"].map((n) => [by[n].inputs.rate, by[n].inputs.mtu]), [["20mbit", 1450], ["5mbit", 1450], ["20mbit", 1450]]);
        assert.equal(by["lan-a1-default"].inputs.gateway, "10.90.0.1");
        assert.equal(await value(lan.vni), vx("lan-vxlan").vni);
        assert.deepEqual(Object.keys(lan.peers), ["beta", "gamma"]);
    });

    it("a LAN on one host makes what it always made (no tunnel, no mtu, no rate)", async () => {
        made.length = 0;
        const lan = new BridgedNetwork("one", { bridge: "br1", cidr: "10.1.0.0/24", namespaces: ["x"] });
        await registered(lan);
        assert.deepEqual(made.filter((m) => m.type !== "netns:index:BridgedNetwork").map((m) => m.name).sort(), ["one-bridge", "one-x", "one-x-default", "one-x-veth"]);
        const veth = made.find((m) => m.name === "one-x-veth")!.inputs;
        assert.equal(veth.mtu, undefined);
        assert.equal(veth.rate, undefined);
        assert.equal(made.find((m) => m.name === "one-bridge")!.inputs.mtu, undefined);
        assert.equal(lan.vxlan, undefined);
    });
});
