import { strict as assert } from "assert";
import { masqueradeRuleProvider as p } from "../../provider/resources/masquerade";
import { ip6tablesSave, iptablesSave, sh, withFreshNetns } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { describePrivileged } from "../helpers/sandbox";
import { Host, PROVIDER_KEY, serializedProviderOf, startHost, UNKNOWN, urn } from "../helpers/host";

const O = owner("MasqueradeRule", "t1");

describe("resources/masquerade: check and diff (no commands)", () => {
    it("normalises, validates and runs nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(p, { source: "FD00:0::/64", owner: O }), { source: "fd00::/64", owner: O });
            assert.deepEqual(await failedProperties(p, { source: "192.168.50.1/24", owner: O }), ["source"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.0/8", outInterface: "a", excludeOutInterface: "b", owner: O }), ["excludeOutInterface"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.0/8", destination: "fd00::/8", owner: O }), ["destination"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.0/8", outInterface: "-j", owner: O }), ["outInterface"]);
            assert.deepEqual(await failedProperties(p, { source: "10.0.0.0/8", outIface: "eth0", owner: O }), ["outIface"]);
            assert.deepEqual(await failedProperties(p, { owner: O }), ["source"]);
            // Unknown values (preview) pass.
            assert.deepEqual(await failedProperties(p, { source: UNKNOWN, outInterface: UNKNOWN, owner: O }), []);
        });
        assert.deepEqual(cmds, []);
    });

    it("replaces on any match change (delete first), updates on owner change, sees hand edits", async () => {
        const news = await checked(p, { source: "10.0.0.0/8", outInterface: "eth0", owner: O });
        const state = { ...news, family: 4, rule: `-A POSTROUTING -s 10.0.0.0/8 -o eth0 -m comment --comment "${O}" -j MASQUERADE` };
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await p.diff!("x", state, news), { changes: false, replaces: [], deleteBeforeReplace: true });
            assert.deepEqual(await p.diff!("x", state, { ...news, outInterface: "eth1" }), { changes: true, replaces: ["outInterface"], deleteBeforeReplace: true });
            assert.deepEqual(await p.diff!("x", state, { ...news, netns: "n1" }), { changes: true, replaces: ["netns"], deleteBeforeReplace: true });
            assert.deepEqual((await p.diff!("x", state, { ...news, owner: owner("MasqueradeRule", "t2") })).replaces, []);
            assert.deepEqual(await p.diff!("x", { ...state, rule: state.rule.replace("eth0", "eth7") }, news), { changes: true, replaces: ["rule"], deleteBeforeReplace: true });
            assert.deepEqual((await p.diff!("x", state, { ...news, source: UNKNOWN })).replaces, ["source"]);
            assert.deepEqual((await p.diff!("x", { ...state, rule: state.rule.replace("eth0", "eth7") }, { ...news, outInterface: "eth7" })).replaces, ["outInterface", "rule"]);
        });
        assert.deepEqual(cmds, []);
    });
});

describePrivileged("resources/masquerade: against the kernel", () => {
    const ns = withFreshNetns("masq");
    const ipt = (...args: string[]) => sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-t", "nat", ...args]);
    const FOREIGN = ["-A POSTROUTING -s 10.1.0.0/16 -j MASQUERADE", `-A POSTROUTING -s 10.2.0.0/16 -m comment --comment "not ours" -j MASQUERADE`];
    const foreignPresent = async () => {
        const save = await iptablesSave(ns.name);
        return FOREIGN.every((l) => save.includes(l));
    };

    it("creates, reads, sees drift, replaces, adopts and deletes only its own rule", async () => {
        await ipt("-A", "POSTROUTING", "-s", "10.1.0.0/16", "-j", "MASQUERADE");
        await ipt("-A", "POSTROUTING", "-s", "10.2.0.0/16", "-m", "comment", "--comment", "not ours", "-j", "MASQUERADE");
        const inputs = await checked(p, { source: "192.168.50.0/24", outInterface: "ens33", netns: ns.name, owner: O });
        const expected = `-A POSTROUTING -s 192.168.50.0/24 -o ens33 -m comment --comment "${O}" -j MASQUERADE`;

        const { id, outs } = await p.create(inputs);
        assert.ok((await iptablesSave(ns.name)).includes(expected));
        assert.deepEqual(outs, { ...inputs, family: 4, rule: expected });
        assert.ok(await foreignPresent());

        // Read back: unchanged.
        assert.deepEqual(await p.read!(id, outs), { id, props: outs });
        // Adopt: a second create leaves a single rule.
        await p.create(inputs);
        assert.equal((await iptablesSave(ns.name)).split(O).length - 1, 1);

        // Altered by hand: read reports the kernel's rule, diff asks for a replacement.
        await ipt("-D", "POSTROUTING", "-s", "192.168.50.0/24", "-o", "ens33", "-m", "comment", "--comment", O, "-j", "MASQUERADE");
        await ipt("-A", "POSTROUTING", "-s", "192.168.50.0/24", "-o", "eth5", "-m", "comment", "--comment", O, "-j", "MASQUERADE");
        const drifted = (await p.read!(id, outs)).props!;
        assert.equal(drifted.rule, expected.replace("ens33", "eth5"));
        const d = await p.diff!(id, drifted, inputs);
        assert.deepEqual(d.replaces, ["rule"]);
        // The engine replaces delete-first: delete the old state, create the new.
        await p.delete!(id, drifted);
        const { outs: outs2 } = await p.create(inputs);
        let save = await iptablesSave(ns.name);
        assert.ok(save.includes(expected) && !save.includes("eth5"));
        assert.ok(await foreignPresent());

        // Owner change: update moves the rule to the new comment.
        const O2 = owner("MasqueradeRule", "t2");
        const news2 = { ...inputs, owner: O2 };
        const { outs: outs3 } = await p.update!(id, outs2, news2);
        save = await iptablesSave(ns.name);
        assert.ok(save.includes(expected.replace(O, O2)) && !save.includes(O));
        assert.ok(Object.values(outs3).every((v) => v !== undefined));

        // Gone by hand: read drops it.
        await ipt("-D", "POSTROUTING", "-s", "192.168.50.0/24", "-o", "ens33", "-m", "comment", "--comment", O2, "-j", "MASQUERADE");
        assert.deepEqual(await p.read!(id, outs3), { id: "", props: {} });

        await p.create(news2);
        await p.delete!(id, outs3);
        await p.delete!(id, outs3);
        save = await iptablesSave(ns.name);
        assert.ok(!save.includes("pulumi-netns:"), save);
        assert.ok(await foreignPresent());
        assert.match(save, /:POSTROUTING ACCEPT/);
    });

    it("handles IPv6 with ip6tables, ! -o and -d", async () => {
        const inputs = await checked(p, { source: "fd00:50::/64", excludeOutInterface: "br0", destination: "::/0", netns: ns.name, owner: O });
        const { id, outs } = await p.create(inputs);
        assert.equal(outs.family, 6);
        assert.ok((await ip6tablesSave(ns.name)).includes(`-A POSTROUTING -s fd00:50::/64 ! -o br0 -m comment --comment "${O}" -j MASQUERADE`));
        assert.ok(!(await iptablesSave(ns.name)).includes(O));
        assert.deepEqual((await p.read!(id, outs)).props, outs);
        await p.delete!(id, outs);
        assert.ok(!(await ip6tablesSave(ns.name)).includes(O));
    });

    it("treats a namespace that is gone as a rule that is gone", async () => {
        const inputs = await checked(p, { source: "10.0.0.0/8", netns: "gone-ns", owner: O });
        const outs = { ...inputs, family: 4, rule: "" };
        assert.deepEqual(await p.read!("x", outs), { id: "", props: {} });
        await p.delete!("x", outs);
    });
});

describePrivileged("resources/masquerade: over the dynamic-provider host (compiled dist/)", function () {
    this.timeout(60000);
    const ns = withFreshNetns("masqh");
    let host: Host;
    let prov: string;
    const u = urn("MasqueradeRule", "h1");
    before(async () => {
        prov = await serializedProviderOf("MasqueradeRule");
        host = await startHost();
    });
    after(async () => host?.stop());

    it("check, create, read, diff, update and delete through gRPC", async () => {
        const bad = await host.check(u, {}, { [PROVIDER_KEY]: prov, source: "10.0.0.1/8", owner: O });
        assert.deepEqual(bad.failures.map((f) => f.property), ["source"]);
        const { inputs } = await host.check(u, {}, { [PROVIDER_KEY]: prov, source: "10.7.0.0/16", outInterface: "up0", netns: ns.name, owner: O });
        const { id, outs } = await host.create(u, inputs);
        assert.ok((await iptablesSave(ns.name)).includes(`-A POSTROUTING -s 10.7.0.0/16 -o up0 -m comment --comment "${O}" -j MASQUERADE`));
        assert.deepEqual((await host.read(u, id, outs)).props, outs);
        assert.equal((await host.diff(u, id, outs, inputs)).changes, "none");
        const d = await host.diff(u, id, outs, { ...inputs, outInterface: "up1" });
        assert.deepEqual([d.changes, d.replaces, d.deleteBeforeReplace], ["some", ["outInterface"], true]);
        const O2 = owner("MasqueradeRule", "h2");
        const { outs: outs2 } = await host.update(u, id, outs, { ...inputs, owner: O2 });
        assert.ok((await iptablesSave(ns.name)).includes(O2));
        await host.delete(u, id, outs2);
        await host.delete(u, id, outs2);
        assert.ok(!(await iptablesSave(ns.name)).includes("pulumi-netns:"));
        assert.deepEqual((await host.read(u, id, outs2)).id, "");
    });
});
