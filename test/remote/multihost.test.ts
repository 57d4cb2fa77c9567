/**
 * A BridgedNetwork spanning hosts, each reached over SSH (test/helpers/sshd.ts: network and mount
 * namespaces of the sandbox on one underlay), through the real pulumi CLI (test/e2e/cli.ts): the bridge
 * on each host, one VXLAN device each whose flood list is every other host's underlay address, the
 * gateway and the FORWARD rule on the component's own host only (a LAN on one host turning into
 * one on two, in place); every member pings every other
 * across the hosts; preview and refresh find nothing to do; NAT on the gateway host serves a member
 * of the other host; a LAN-wide rate limits a transfer
 * between the hosts (iperf3, ±25%) and goes again; a third host joins (and a member moves to it,
 * keeping its address) and leaves, the others' tunnels updated in place; the gateway moves to
 * another host; removing one host's
 * members removes only their resources; destroy leaves every host as it was.
 */
import { strict as assert } from "assert";
import { existsSync } from "fs";
import { bridgeProvider } from "../../provider/resources/bridge";
import { vethPairProvider } from "../../provider/resources/veth";
import { nameOf, Project, requireCli, type PreviewJson } from "../e2e/cli";
import { owner } from "../helpers/provider";
import { describePrivileged, requireTool } from "../helpers/sandbox";
import { haveSshd, snapshotRemote, startSshd, type Sshd } from "../helpers/sshd";

const PROGRAM = "test/remote/programs/multihost";
const BRIDGE = "br-mh";

/** What the kernel of a host reports, through its sshd's namespaces. */
const json = async (host: Sshd, argv: string[]) => JSON.parse((await host.exec(argv)) || "[]") as any[];
const namespacesOn = async (host: Sshd) => (await json(host, ["ip", "-json", "netns", "list"])).map((n) => n.name as string).sort();
const linksOn = (host: Sshd) => json(host, ["ip", "-json", "-details", "address", "show"]);

/** One ping from a namespace on a host, a few tries while the bridges learn; true if answered. */
async function pings(host: Sshd, from: string, to: string): Promise<boolean> {
    for (let i = 0; i < 5; i++) {
        if (await host.exec(["ip", "netns", "exec", from, "ping", "-n", "-c1", "-W1", to]).then(() => true, () => false)) return true;
    }
    return false;
}

/** Mbit/s received by an iperf3 server in namespace `to` on `server` from a 2 s client in `from` on `client`. */
async function measure(client: Sshd, from: string, server: Sshd, to: string, address: string): Promise<number> {
    const srv = server.spawn(["ip", "netns", "exec", to, "iperf3", "-s", "-1", "-B", address]);
    try {
        for (let i = 0; i < 50; i++) {
            if (/:5201\b/.test(await server.exec(["ip", "netns", "exec", to, "ss", "-Hltn"]))) break;
            await new Promise((r) => setTimeout(r, 100));
        }
        const out = JSON.parse(await client.exec(["ip", "netns", "exec", from, "iperf3", "-c", address, "-t", "2", "-J"]));
        return out.end.sum_received.bits_per_second / 1e6;
    } finally {
        srv.kill();
    }
}

describe("remote: a resource moving to another host (diff, no commands)", () => {
    it("is replaced, delete-first like every replacement", async () => {
        const conn = (host: string) => ({ host, port: 22, user: "root" });
        const pair = { name: "a2-12345", peerName: "eth0", peerNetns: "a2", addresses: [], peerAddresses: ["10.90.0.7/24"], master: "br-mh", up: true, dad: false, owner: owner("VethPair", "v"), connection: conn("10.77.0.2") };
        assert.deepEqual(await vethPairProvider.diff!("x", pair, { ...pair, connection: conn("10.77.0.4") }), { changes: true, replaces: ["connection"], deleteBeforeReplace: true });
        assert.deepEqual(await vethPairProvider.diff!("x", pair, { ...pair, peerNetns: "a3" }), { changes: true, replaces: ["peerNetns"], deleteBeforeReplace: true });
        const br = { name: "br-mh", addresses: [], up: true, dad: false, owner: owner("Bridge", "b"), connection: conn("10.77.0.2") };
        assert.deepEqual(await bridgeProvider.diff!("x", br, { ...br, connection: conn("10.77.0.3") }), { changes: true, replaces: ["connection"], deleteBeforeReplace: true });
        assert.deepEqual((await bridgeProvider.diff!("x", br, { ...br, netns: "n" })).deleteBeforeReplace, true);
        assert.deepEqual((await bridgeProvider.diff!("x", { ...br, mtu: 1450 }, { ...br, name: "br-mh", netns: undefined, connection: conn("10.77.0.2"), mtu: 1400 })).replaces, []);
    });
});

/** "op name" of every resource of the package a plan changes (the stack and the component left out). */
const opsOf = (p: PreviewJson) => p.steps.filter((s) => s.op !== "same" && s.urn.includes("pulumi-nodejs:dynamic/")).map((s) => `${s.op} ${nameOf(s.urn)}`).sort();

/** Sets (and removes) config, plans the change (`preview --json`), applies it (`up`): the plan's ops and the stack's outputs after. */
async function apply(project: Project, config: Record<string, unknown> = {}, remove: string[] = []): Promise<{ ops: string[]; outputs: Record<string, unknown> }> {
    await project.setConfig(config);
    for (const k of remove) await project.pulumi(["config", "rm", k]);
    const plan = await project.preview();
    await project.pulumi(["up", "--yes", "--skip-preview"]);
    return { ops: opsOf(plan), outputs: await project.outputs() };
}
/** No change planned, and none found by refresh: both exit 7 otherwise. */
const unchanged = (project: Project) => project.pulumi(["preview", "--expect-no-changes"]);
const noDrift = (project: Project) => project.pulumi(["refresh", "--yes", "--expect-no-changes"]);

describePrivileged("remote: BridgedNetwork spanning hosts over SSH (VXLAN)", function () {
    this.timeout(600000);
    let alpha: Sshd, beta: Sshd, gamma: Sshd;
    before(async function () {
        requireTool(this, haveSshd(), "openssh-server (/usr/sbin/sshd)");
        requireCli(this);
        alpha = await startSshd();
        beta = await startSshd({ netns: "remote2", address: "10.77.0.3" });
        gamma = await startSshd({ netns: "remote3", address: "10.77.0.4" });
    });
    after(async () => {
        for (const h of [gamma, beta, alpha]) await h?.stop();
    });

    it("the hosts are apart: each its own `ip netns` and /run, as two machines", async () => {
        await alpha.exec(["ip", "netns", "add", "same"]);
        try {
            assert.deepEqual(await namespacesOn(alpha), ["same"]);
            assert.deepEqual(await namespacesOn(beta), [], "a namespace of one host is not the other's");
            await beta.exec(["ip", "netns", "add", "same"]); // the same name on the other host: no clash
            assert.notEqual(await alpha.exec(["stat", "-L", "-c", "%i", "/run/netns/same"]), await beta.exec(["stat", "-L", "-c", "%i", "/run/netns/same"]));
        } finally {
            await alpha.exec(["ip", "netns", "del", "same"]);
            await beta.exec(["ip", "netns", "del", "same"]).catch(() => undefined);
        }
        assert.ok(await alpha.exec(["ping", "-c1", "-W1", beta.address]).then(() => true, () => false), "the underlay joins them");
    });

    it("one LAN on one host, then two, then three: pings across, clean refresh, rate, a host joining and leaving, the gateway moving, one host's members removed, destroy restores every host", async function () {
        const before = await Promise.all([alpha, beta, gamma].map(snapshotRemote));
        const place = (h: Sshd) => ({ connection: h.connection, underlay: h.address });
        // First a LAN on alpha alone, as any program on one host (`underlay` without peers changes nothing).
        const project = Project.create(PROGRAM);
        await project.init("dev", { alpha: JSON.stringify(place(alpha)), peers: "{}", members: JSON.stringify(["a1", "a2"]) });
        let destroyed = false;
        let addresses: Record<string, string> = {};
        let gateway = "";
        let vni = 0;
        /** What each host's kernel has: the bridge (the gateway address on alpha's only), one VXLAN port flooding to every other host, the FORWARD rule on alpha only; then every member pings every other, and the gateway. */
        const assertLan = async (where: Record<string, Sshd>, hosts: Sshd[], gw = alpha) => {
            for (const host of hosts) {
                const ls = await linksOn(host);
                const bridge = ls.find((l) => l.ifname === BRIDGE);
                assert.equal(bridge?.linkinfo?.info_kind, "bridge", `${BRIDGE} on ${host.netns}`);
                const lanAddrs = (bridge.addr_info as any[]).filter((a) => a.family === "inet").map((a) => `${a.local}/${a.prefixlen}`);
                assert.deepEqual(lanAddrs, host === gw ? [`${gateway}/24`] : [], `the gateway address is on ${gw.netns}'s bridge only (${host.netns})`);
                const tunnels = ls.filter((l) => l.linkinfo?.info_kind === "vxlan");
                assert.equal(tunnels.length, 1, "one VXLAN device per host");
                const vx = tunnels[0];
                assert.equal(vx.master, BRIDGE);
                assert.equal(vx.linkinfo.info_data.id, vni);
                assert.equal(vx.linkinfo.info_data.local, host.address);
                assert.equal(vx.linkinfo.info_data.port, 4789);
                assert.equal(vx.mtu, 1450, "fits the tunnel on a 1500-byte underlay");
                const flood = (await json(host, ["bridge", "-json", "fdb", "show", "dev", vx.ifname])).filter((e) => e.mac === "00:00:00:00:00:00").map((e) => e.dst).sort();
                assert.deepEqual(flood, hosts.filter((o) => o !== host).map((o) => o.address).sort(), `${host.netns} floods to every other host`);
                const forward = await host.exec(["iptables", "-S", "FORWARD"]);
                assert.equal(/-i br-mh .*-j ACCEPT/.test(forward), host === gw, `the FORWARD rule is on ${gw.netns} only: ${host.netns}: ${forward}`);
            }
            for (const host of hosts) assert.deepEqual(await namespacesOn(host), Object.keys(where).filter((n) => where[n] === host).sort(), `the namespaces of ${host.netns}`);
            for (const from of Object.keys(where)) {
                for (const to of Object.keys(where)) if (to !== from) assert.ok(await pings(where[from], from, addresses[to]), `${from} (${where[from].netns}) → ${to} (${addresses[to]})`);
                assert.ok(await pings(where[from], from, gateway), `${from} → the gateway`);
            }
        };
        try {
            const alone = await apply(project);
            assert.deepEqual(alone.ops, ["a1", "a2"].flatMap((n) => [`mh-${n}`, `mh-${n}-default`, `mh-${n}-veth`]).concat(["mh-bridge", "mh-from-lan"]).sort().map((n) => `create ${n}`));
            assert.equal((await linksOn(alpha)).filter((l) => l.linkinfo?.info_kind === "vxlan").length, 0, "no tunnel on one host");
            // beta joins with two members: alpha's resources stay (the bridge and veths take the tunnel's MTU in place), no replacement.
            const up = await apply(project, { peers: JSON.stringify({ beta: place(beta) }), members: JSON.stringify(["a1", "a2", { name: "b1", host: "beta" }, { name: "b2", host: "beta" }]) });
            assert.deepEqual(up.ops, [
                ...["b1", "b2"].flatMap((n) => [`create mh-${n}`, `create mh-${n}-default`, `create mh-${n}-veth`]),
                "create mh-beta-bridge", "create mh-beta-vxlan", "create mh-vxlan",
                "update mh-a1-veth", "update mh-a2-veth", "update mh-bridge",
            ].sort());
            addresses = up.outputs.addresses as Record<string, string>;
            gateway = up.outputs.gateway as string;
            vni = up.outputs.vni as number;
            assert.ok(Number.isInteger(vni) && vni >= 1 && vni <= 16777215, `vni ${vni}`);
            await assertLan({ a1: alpha, a2: alpha, b1: beta, b2: beta }, [alpha, beta]);
            await unchanged(project);
            await noDrift(project);

            // NAT on the gateway host: a member on beta reaches the underlay's far side (the sandbox, 10.77.0.1), masqueraded
            // by alpha; without it nothing routes the LAN's replies back.
            assert.equal(await pings(beta, "b1", "10.77.0.1"), false, "no NAT yet: no way back");
            assert.deepEqual((await apply(project, { nat: JSON.stringify({ outInterface: "eth0" }) })).ops, ["create mh-forwarding", "create mh-masquerade", "create mh-to-lan"]);
            assert.match(await alpha.exec(["iptables", "-t", "nat", "-S", "POSTROUTING"]), /-s 10\.90\.0\.0\/24 -o eth0 .*-j MASQUERADE/);
            assert.doesNotMatch(await beta.exec(["iptables", "-t", "nat", "-S", "POSTROUTING"]), /MASQUERADE/, "NAT on the gateway host only");
            assert.equal((await alpha.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "1");
            assert.equal((await beta.exec(["sysctl", "-n", "net.ipv4.ip_forward"])).trim(), "0");
            assert.ok(await pings(beta, "b1", "10.77.0.1"), "b1 → the underlay's far side, through alpha's NAT");
            assert.deepEqual((await apply(project, {}, ["nat"])).ops, ["delete mh-forwarding", "delete mh-masquerade", "delete mh-to-lan"]);

            // A LAN-wide rate: each member's veth pair (a bridge port) gets it, in place; measured from alpha to beta across the tunnel.
            if (existsSync("/usr/bin/iperf3")) {
                assert.deepEqual((await apply(project, { rate: "20mbit" })).ops, ["a1", "a2", "b1", "b2"].map((n) => `update mh-${n}-veth`));
                for (const [host, ns] of [[alpha, "a1"], [beta, "b1"]] as const) {
                    const port = (await linksOn(host)).find((l) => l.master === BRIDGE && l.linkinfo?.info_kind === "veth");
                    const q = (await json(host, ["tc", "-j", "qdisc", "show", "dev", port.ifname, "root"]))[0];
                    assert.equal(q?.kind, "tbf", `a tbf on ${port.ifname}, ${host.netns}'s bridge port`);
                    assert.equal(q.options.rate, 2500000);
                    assert.equal((await json(host, ["tc", "-n", ns, "-j", "qdisc", "show", "dev", "eth0", "root"]))[0]?.kind, "tbf", `and on ${ns}'s end`);
                }
                await noDrift(project); // the limits read back as declared
                const mbit = await measure(alpha, "a1", beta, "b1", addresses.b1);
                assert.ok(mbit > 15 && mbit < 25, `a1 → b1: ${mbit.toFixed(1)} Mbit/s, not within 25% of 20`);
                assert.deepEqual((await apply(project, {}, ["rate"])).ops, ["a1", "a2", "b1", "b2"].map((n) => `update mh-${n}-veth`));
                assert.notEqual((await json(beta, ["tc", "-n", "b1", "-j", "qdisc", "show", "dev", "eth0", "root"]))[0]?.kind, "tbf");
                const free = await measure(alpha, "a1", beta, "b1", addresses.b1);
                assert.ok(free > 50, `unlimited again: ${free.toFixed(0)} Mbit/s`);
            } else {
                console.warn("SKIPPING the rate part: iperf3 is not installed (npm test installs it as root with apt-get)");
            }

            // A third host joins with a member, and a2 moves there: the others' tunnels are updated in place, a2 keeps its address.
            const joined = await apply(project, {
                peers: JSON.stringify({ beta: place(beta), gamma: place(gamma) }),
                members: JSON.stringify(["a1", { name: "a2", host: "gamma" }, { name: "b1", host: "beta" }, { name: "b2", host: "beta" }, { name: "c1", host: "gamma" }]),
            });
            assert.deepEqual(joined.ops, [
                "create mh-c1", "create mh-c1-default", "create mh-c1-veth", "create mh-gamma-bridge", "create mh-gamma-vxlan",
                // a2's namespace, veth and route on alpha deleted first (its veth and route with it), then made on gamma.
                "replace mh-a2", "replace mh-a2-default", "replace mh-a2-veth", "update mh-beta-vxlan", "update mh-vxlan",
            ]);
            assert.equal((joined.outputs.addresses as Record<string, string>).a2, addresses.a2, "a2's address does not depend on its host");
            addresses = joined.outputs.addresses as Record<string, string>;
            await assertLan({ a1: alpha, a2: gamma, b1: beta, b2: beta, c1: gamma }, [alpha, beta, gamma]);
            await noDrift(project);

            // The third host leaves (a2 back home): its resources go, the others' flood lists shrink in place, it is as it was.
            const left = await apply(project, { peers: JSON.stringify({ beta: place(beta) }), members: JSON.stringify(["a1", "a2", { name: "b1", host: "beta" }, { name: "b2", host: "beta" }]) });
            assert.deepEqual(left.ops, [
                "delete mh-c1", "delete mh-c1-default", "delete mh-c1-veth", "delete mh-gamma-bridge", "delete mh-gamma-vxlan",
                "replace mh-a2", "replace mh-a2-default", "replace mh-a2-veth", "update mh-beta-vxlan", "update mh-vxlan",
            ]);
            await assertLan({ a1: alpha, a2: alpha, b1: beta, b2: beta }, [alpha, beta]);
            assert.equal(await snapshotRemote(gamma), before[2], "the host that left is as it was");

            // The gateway moves to beta: the address from one bridge to the other (updates), the FORWARD rule to beta.
            const moved = await apply(project, { gatewayHost: "beta" });
            assert.deepEqual([...new Set(moved.ops.map((o) => o.split(" ")[1]))].sort(), ["mh-beta-bridge", "mh-bridge", "mh-from-lan"]);
            // The gateway address now answers with beta's bridge's MAC: the members' neighbour entries for it name alpha's until they
            // expire (tens of seconds), as after any gateway change on a LAN; flushed here, as docs/bridged-network.md says to.
            for (const [ns, host] of [["a1", alpha], ["a2", alpha], ["b1", beta], ["b2", beta]] as const) await host.exec(["ip", "-n", ns, "neigh", "flush", "dev", "eth0"]);
            await assertLan({ a1: alpha, a2: alpha, b1: beta, b2: beta }, [alpha, beta], beta);
            await noDrift(project);

            // beta's members go: only their resources are deleted; beta keeps its bridge and tunnel, alpha is untouched.
            const alphaBefore = await snapshotRemote(alpha);
            const shrunk = await apply(project, { members: JSON.stringify(["a1", "a2"]) });
            assert.deepEqual(shrunk.ops, ["b1", "b2"].flatMap((n) => [`mh-${n}`, `mh-${n}-veth`, `mh-${n}-default`]).sort().map((n) => `delete ${n}`));
            assert.deepEqual(await namespacesOn(beta), []);
            assert.equal((await linksOn(beta)).filter((l) => l.ifname === BRIDGE || l.linkinfo?.info_kind === "vxlan").length, 2, "beta's bridge and tunnel stay");
            assert.equal(await snapshotRemote(alpha), alphaBefore, "alpha is as it was");
            assert.ok(await pings(alpha, "a1", addresses.a2));
            assert.ok(await pings(alpha, "a1", gateway), "the gateway on beta, across the tunnel");

            await project.pulumi(["destroy", "--yes"]);
            destroyed = true;
            assert.deepEqual((await project.exportStack()).deployment.resources ?? [], []);
            const after = await Promise.all([alpha, beta, gamma].map(snapshotRemote));
            assert.equal(after[0], before[0], "destroy left alpha changed");
            assert.equal(after[1], before[1], "destroy left beta changed");
            assert.equal(after[2], before[2], "destroy left gamma changed");
        } finally {
            if (!destroyed) await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
            project.remove();
        }
    });
});
