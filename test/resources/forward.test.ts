import { strict as assert } from "assert";
import { forwardRuleProvider as p } from "../../provider/resources/forward";
import { ip6tablesSave, iptablesSave, sh, withFreshNetns } from "../helpers/kernel";
import { Host, PROVIDER_KEY, serializedProviderOf, startHost, UNKNOWN, urn } from "../helpers/host";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { describePrivileged } from "../helpers/sandbox";

const O = owner("ForwardRule", "t1");

describe("resources/forward: check and diff (no commands)", () => {
    it("validates, leaves defaults out of the state and runs nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(p, { inInterface: "br0", owner: O }), { inInterface: "br0", owner: O });
            assert.deepEqual(await failedProperties(p, { owner: O }), ["(resource)"]);
            assert.deepEqual(await failedProperties(p, { established: false, owner: O }), ["(resource)"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.0/8", destination: "fd00::/8", owner: O }), ["destination"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.0/8", family: 6, owner: O }), ["source"]);
            assert.deepEqual(await failedProperties(p, { inInterface: "br0", family: 5, owner: O }), ["family"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.1/8", owner: O }), ["source"]);
            assert.deepEqual(await failedProperties(p, { inInterface: "br0", state: "new", owner: O }), ["state"]);
            assert.deepEqual(await failedProperties(p, { inInterface: UNKNOWN, owner: O }), []);
        });
        assert.deepEqual(cmds, []);
    });

    it("replaces on any match change, leaves an omitted family alone", async () => {
        const news = await checked(p, { inInterface: "br0", owner: O });
        const state = { ...news, family: 4, rule: `-A FORWARD -i br0 -m comment --comment "${O}" -j ACCEPT` };
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await p.diff!("x", state, news), { changes: false, replaces: [], deleteBeforeReplace: true });
            assert.deepEqual((await p.diff!("x", state, { ...news, established: true })).replaces, ["established"]);
            assert.deepEqual((await p.diff!("x", state, { ...news, family: 6 })).replaces, ["family"]);
            assert.deepEqual(await p.diff!("x", state, { ...news, owner: owner("ForwardRule", "t2") }), { changes: true, replaces: [], deleteBeforeReplace: true });
        });
        assert.deepEqual(cmds, []);
    });
});

describePrivileged("resources/forward: against the kernel", () => {
    const ns = withFreshNetns("fwd");
    const ipt = (...args: string[]) => sh(["ip", "netns", "exec", ns.name, "iptables", "-w", ...args]);
    const FOREIGN = ["-A FORWARD -j DOCKER-USER", `-A FORWARD -o x0 -m comment --comment "not ours" -j DROP`];
    const foreignPresent = async () => {
        const save = await iptablesSave(ns.name);
        return FOREIGN.every((l) => save.includes(l)) && save.includes(":FORWARD DROP");
    };

    beforeEach(async () => {
        // A Docker-like host: FORWARD policy DROP, jumps to Docker's chains, a foreign comment rule.
        await ipt("-P", "FORWARD", "DROP");
        await ipt("-N", "DOCKER-USER");
        await ipt("-A", "FORWARD", "-j", "DOCKER-USER");
        await ipt("-A", "FORWARD", "-o", "x0", "-m", "comment", "--comment", "not ours", "-j", "DROP");
    });

    it("inserts first, reads, sees drift, updates the owner and deletes only its own rule", async () => {
        const inputs = await checked(p, { outInterface: "br-nat", established: true, netns: ns.name, owner: O });
        const expected = `-A FORWARD -o br-nat -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment "${O}" -j ACCEPT`;
        const { id, outs } = await p.create(inputs);
        const forward = (await iptablesSave(ns.name)).split("\n").filter((l) => l.startsWith("-A FORWARD"));
        assert.equal(forward[0], expected, "inserted at position 1, before Docker's jump");
        assert.deepEqual(outs, { ...inputs, family: 4, rule: expected });
        assert.deepEqual(await p.read!(id, outs), { id, props: outs });
        await p.create(inputs);
        assert.equal((await iptablesSave(ns.name)).split(O).length - 1, 1, "a second create adopts");
        assert.ok(await foreignPresent());

        // Drift: the match edited by hand.
        await ipt("-R", "FORWARD", "1", "-o", "br-x", "-m", "comment", "--comment", O, "-j", "ACCEPT");
        const drifted = (await p.read!(id, outs)).props!;
        assert.equal(drifted.rule, `-A FORWARD -o br-x -m comment --comment "${O}" -j ACCEPT`);
        assert.deepEqual((await p.diff!(id, drifted, inputs)).replaces, ["rule"]);
        await p.delete!(id, drifted);
        assert.ok(!(await iptablesSave(ns.name)).includes(O));
        await p.create(inputs);

        const O2 = owner("ForwardRule", "t2");
        const { outs: outs2 } = await p.update!(id, outs, { ...inputs, owner: O2 });
        let save = await iptablesSave(ns.name);
        assert.ok(save.includes(expected.replace(O, O2)) && !save.includes(O));
        assert.equal(outs2.rule, expected.replace(O, O2));

        await ipt("-D", "FORWARD", "1");
        assert.deepEqual(await p.read!(id, outs2), { id: "", props: {} });
        await p.create({ ...inputs, owner: O2 });
        await p.delete!(id, outs2);
        await p.delete!(id, outs2);
        save = await iptablesSave(ns.name);
        assert.ok(!save.includes("pulumi-netns:"), save);
        assert.ok(await foreignPresent());
    });

    it("puts IPv6 rules in ip6tables, with source and destination", async () => {
        const inputs = await checked(p, { source: "fd00:1::/64", destination: "fd00:2::/64", inInterface: "br0", netns: ns.name, owner: O });
        const { id, outs } = await p.create(inputs);
        assert.equal(outs.family, 6);
        assert.ok((await ip6tablesSave(ns.name)).includes(`-A FORWARD -s fd00:1::/64 -d fd00:2::/64 -i br0 -m comment --comment "${O}" -j ACCEPT`));
        assert.deepEqual((await p.read!(id, outs)).props, outs);
        await p.delete!(id, outs);
        assert.ok(!(await ip6tablesSave(ns.name)).includes(O));
    });
});

describePrivileged("resources/forward: over the dynamic-provider host (compiled dist/)", function () {
    this.timeout(60000);
    const ns = withFreshNetns("fwdh");
    let host: Host;
    let prov: string;
    const u = urn("ForwardRule", "h1");
    before(async () => {
        prov = await serializedProviderOf("ForwardRule");
        host = await startHost();
    });
    after(async () => host?.stop());

    it("check, create, read, diff and delete through gRPC", async () => {
        const bad = await host.check(u, {}, { [PROVIDER_KEY]: prov, owner: O });
        assert.deepEqual(bad.failures.map((f) => f.property), ["(resource)"]);
        const { inputs } = await host.check(u, {}, { [PROVIDER_KEY]: prov, inInterface: "br-nat", netns: ns.name, owner: O });
        const { id, outs } = await host.create(u, inputs);
        assert.equal(outs.family, 4);
        assert.ok((await iptablesSave(ns.name)).includes(`-A FORWARD -i br-nat -m comment --comment "${O}" -j ACCEPT`));
        assert.deepEqual((await host.read(u, id, outs)).props, outs);
        assert.equal((await host.diff(u, id, outs, inputs)).changes, "none");
        assert.deepEqual((await host.diff(u, id, outs, { ...inputs, established: true })).replaces, ["established"]);
        await host.delete(u, id, outs);
        await host.delete(u, id, outs);
        assert.ok(!(await iptablesSave(ns.name)).includes("pulumi-netns:"));
    });
});
