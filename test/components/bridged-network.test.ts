import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { spawn, type ChildProcess } from "child_process";
import { mkdtempSync, readFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { BridgedNetwork, planLan } from "../../provider/components/bridged-network";
import { changes, Project, requireCli, type PreviewJson } from "../e2e/cli";
import { links, netnsList, sh } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";

function value<T>(o: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => o.apply((v) => resolve(v)));
}

describe("components/bridged-network: planLan (pure)", () => {
    const names = Array.from({ length: 30 }, (_, i) => `ns${i}`);

    it("gives each namespace an address that survives adding and removing others", () => {
        const all = planLan({ bridge: "br0", cidr: "10.50.0.0/24", namespaces: names });
        const at = (p: ReturnType<typeof planLan>) => Object.fromEntries(p.members.map((m) => [m.netns, m]));
        const full = at(all);
        assert.equal(all.gateway, "10.50.0.1");
        assert.equal(new Set(all.members.map((m) => m.address)).size, 30, "addresses are distinct");
        assert.ok(all.members.every((m) => m.address !== "10.50.0.1" && m.address !== "10.50.0.0" && m.address !== "10.50.0.255"));
        const appended = at(planLan({ bridge: "br0", cidr: "10.50.0.0/24", namespaces: [...names, "late"] }));
        for (const n of names) assert.deepEqual(appended[n], full[n], `${n} unchanged when one is appended`);
        // Removing namespaces keeps every survivor that did not lose a hash collision to a removed one.
        const fewer = at(planLan({ bridge: "br0", cidr: "10.50.0.0/24", namespaces: names.filter((_, i) => i % 3 !== 0) }));
        const moved = Object.keys(fewer).filter((n) => fewer[n].address !== full[n].address);
        assert.ok(moved.length <= 2, `moved: ${moved}`);
        for (const n of Object.keys(fewer)) assert.equal(fewer[n].hostVeth, full[n].hostVeth);
    });

    it("derives short, distinct host-side veth names", () => {
        const plan = planLan({ bridge: "br0", cidr: "10.50.0.0/16", namespaces: ["averyveryverylongname1", "averyveryverylongname2", "x"] });
        for (const m of plan.members) assert.ok(m.hostVeth.length <= 15, m.hostVeth);
        assert.equal(new Set(plan.members.map((m) => m.hostVeth)).size, 3);
    });

    it("honours pinned addresses and an explicit gateway", () => {
        const plan = planLan({ bridge: "br0", cidr: "192.168.1.0/24", gateway: "192.168.1.254", namespaces: [{ name: "ns1", address: "192.168.1.1" }, "ns2"] });
        assert.equal(plan.gateway, "192.168.1.254");
        assert.equal(plan.members[0].address, "192.168.1.1");
        assert.notEqual(plan.members[1].address, "192.168.1.254");
    });

    it("refuses plans that cannot work, with a clear message", () => {
        assert.throws(() => planLan({ bridge: "br0", cidr: "10.0.0.0/30", namespaces: ["a", "b"] }), /has 2 usable addresses, too few for the gateway and 2 namespaces/);
        assert.throws(() => planLan({ bridge: "br0", cidr: "10.0.0.0/24", namespaces: ["a", "a"] }), /listed twice/);
        assert.throws(() => planLan({ bridge: "br0", cidr: "10.0.0.0/24", gateway: "10.0.1.1", namespaces: [] }), /not a usable address/);
        assert.throws(() => planLan({ bridge: "br0", cidr: "10.0.0.0/24", namespaces: [{ name: "a", address: "10.0.0.1" }] }), /already used/);
        assert.throws(() => planLan({ bridge: "br0", cidr: "10.0.0.5/24", namespaces: [] }), /host bits set/);
    });

    it("plans IPv6 LANs", () => {
        const plan = planLan({ bridge: "br6", cidr: "fd00:50::/64", namespaces: ["a"] });
        assert.equal(plan.gateway, "fd00:50::1");
        assert.match(plan.members[0].address, /^fd00:50::/);
    });
});

describe("components/bridged-network: resource graph under mocks", () => {
    const made: pulumi.runtime.MockResourceArgs[] = [];
    before(() => {
        pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    made.push(args);
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: () => ({}),
            },
            "proj",
            "dev",
            false,
        );
    });

    it("builds one Netns, VethPair and Route per namespace, plus NAT and forwarding, parented to the component", async () => {
        const lan = new BridgedNetwork("lan", { bridge: "br-lan", cidr: "192.168.50.0/24", namespaces: ["blue", "red"], nat: { outInterface: "eth0" } });
        const addresses = await value(lan.addresses);
        assert.deepEqual(Object.keys(addresses), ["blue", "red"]);
        assert.equal(await value(lan.gateway), "192.168.50.1");
        assert.equal(await value(lan.bridgeName), "br-lan");

        const urns = await Promise.all([lan.bridge, ...Object.values(lan.members).flatMap((m) => [m.netns, m.veth, m.route])].map((r) => value(r.urn)));
        for (const u of urns) assert.match(u, /::netns:index:BridgedNetwork\$pulumi-nodejs:dynamic\/netns:\w+::lan-/, u);

        const byName = Object.fromEntries(made.map((m) => [m.name, m]));
        assert.deepEqual(
            Object.keys(byName).filter((n) => n.startsWith("lan-")).sort(),
            ["lan-blue", "lan-blue-default", "lan-blue-veth", "lan-bridge", "lan-forwarding", "lan-from-lan", "lan-masquerade", "lan-red", "lan-red-default", "lan-red-veth", "lan-to-lan"],
        );
        const veth = byName["lan-blue-veth"].inputs;
        assert.equal(veth.master, "br-lan", "the veth is wired to the bridge's output");
        assert.equal(veth.peerNetns, "blue", "and to the namespace's output");
        assert.deepEqual(veth.peerAddresses, [`${addresses.blue}/24`]);
        assert.equal(byName["lan-blue-default"].inputs.gateway, "192.168.50.1");
        assert.deepEqual(byName["lan-bridge"].inputs.addresses, ["192.168.50.1/24"]);
        assert.equal(byName["lan-masquerade"].inputs.source, "192.168.50.0/24");
        assert.equal(byName["lan-masquerade"].inputs.outInterface, "eth0");
        assert.equal(byName["lan-to-lan"].inputs.established, true);
    });

    it("rejects bad arguments when the program runs (at preview)", () => {
        assert.throws(() => new BridgedNetwork("bad", { bridge: "br-with-a-long-name", cidr: "10.0.0.0/24", namespaces: [] }), /BridgedNetwork "bad": bridge: .*at most 15/);
        assert.throws(() => new BridgedNetwork("small", { bridge: "br0", cidr: "10.0.0.0/30", namespaces: ["a", "b", "c"] }), /too few/);
    });
});

describePrivileged("components/bridged-network: destroy through the real pulumi CLI", function () {
    let project: Project | undefined;
    let sleeper: ChildProcess | undefined;
    before(function () {
        requireCli(this);
        project = Project.create("examples/bridge-lan");
    });
    after(async () => {
        sleeper?.kill("SIGKILL");
        await project?.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
        project?.remove();
    });

    it("sends no delete for a namespace's pair and route (deletedWith), and leaves nothing even when a process holds the namespace", async () => {
        const p = project!;
        const rootLinks = async () => (await links()).map((l) => l.ifname).sort();
        const before = await rootLinks();
        await p.init("dev");
        await p.pulumi(["up", "--yes"]);
        const hostVeths = (await links()).filter((l) => l.master === "br0").map((l) => l.ifname);
        assert.equal(hostVeths.length, 2);
        // A process still in ns2 keeps that namespace alive after `ip netns delete`: its veth must not outlive the stack.
        sleeper = spawn("ip", ["netns", "exec", "ns2", "sleep", "60"], { stdio: "ignore" });
        await new Promise((r) => setTimeout(r, 200));
        assert.match(await sh(["ip", "netns", "pids", "ns2"]), /\d+/);

        // The plan still shows every member's pair and route deleted; the provider (its commands traced) sends none of their own.
        const plan = JSON.parse((await p.pulumi(["destroy", "--preview-only", "--json"], { env: { PULUMI_SKIP_CONFIRMATIONS: "false" } })).stdout) as PreviewJson;
        assert.ok(["lan-ns1-veth", "lan-ns2-veth", "lan-ns1-default", "lan-ns2-default"].every((n) => changes(plan).includes(`delete ${n}`)), "still shown as deleted");
        const trace = path.join(mkdtempSync(path.join(tmpdir(), "trace-")), "commands");
        await p.pulumi(["destroy", "--yes"], { env: { PULUMI_NETNS_TRACE: trace } });
        const ran = readFileSync(trace, "utf8").trim().split("\n").map((l) => JSON.parse(l) as string[]);
        assert.deepEqual(ran.filter((c) => c.includes("route") || (c.includes("link") && c.includes("delete") && hostVeths.some((v) => c.includes(v)))), [],
            "no route or veth delete of their own: they go with their namespace");
        // Per namespace, one read of its links and one `ip -batch` deleting it with its veth (two namespaces' reads, or deletes, may share one process).
        const batches = ran.filter((c) => c.join(" ") === "ip -batch -" || c.join(" ") === "ip -force -batch -").length;
        assert.ok(batches >= 1 && batches <= 4, `at most two processes per namespace read and delete it with its veth (ran ${batches}: ${JSON.stringify(ran)})`);
        assert.deepEqual(await rootLinks(), before, "no veth left in the root namespace");
        assert.equal((await netnsList()).some((n) => n === "ns1" || n === "ns2"), false);
        assert.deepEqual((await p.exportStack()).deployment.resources ?? [], []);
    });
});
