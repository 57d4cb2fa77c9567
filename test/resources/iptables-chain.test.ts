import { strict as assert } from "assert";
import { iptablesChainProvider as p } from "../../provider/resources/iptables-chain";
import { iptablesRuleProvider as rules } from "../../provider/resources/iptables-rule";
import { ip6tablesSave, iptablesSave, sh, withFreshNetns } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { describePrivileged } from "../helpers/sandbox";

const O = owner("IptablesChain", "c1");

describe("resources/iptables-chain: check and diff (no commands)", () => {
    it("leaves defaults out of the state, refuses built-in chains' and targets' names, naming the property, and runs nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(p, { name: "OTHER-TOOL", owner: O }), { name: "OTHER-TOOL", owner: O });
            for (const name of ["FORWARD", "postrouting", "ACCEPT", "-N", "a b", "x".repeat(29), ""]) assert.deepEqual([...new Set(await failedProperties(p, { name, owner: O }))], ["name"], name);
            assert.deepEqual(await failedProperties(p, { name: "C", table: "security", owner: O }), ["table"]);
            assert.deepEqual(await failedProperties(p, { name: "C", family: 5, owner: O }), ["family"]);
        });
        assert.deepEqual(cmds, []);
    });

    it("any change but the owner is another chain: a replacement, delete first", async () => {
        const news = await checked(p, { name: "C", owner: O });
        for (const k of [{ name: "D" }, { table: "nat" }, { family: 6 }, { netns: "x" }]) {
            assert.deepEqual(await p.diff!("x", news, { ...news, ...k }), { changes: true, replaces: Object.keys(k), deleteBeforeReplace: true });
        }
        assert.deepEqual((await p.diff!("x", news, { ...news, owner: owner("IptablesChain", "c2") })).replaces, []);
    });
});

describePrivileged("resources/iptables-chain: against the kernel", () => {
    const ns = withFreshNetns("ipc");
    const S = async (family: 4 | 6 = 4, table = "filter") => (await sh(["ip", "netns", "exec", ns.name, family === 6 ? "ip6tables" : "iptables", "-w", "-t", table, "-S"])).split("\n").filter((l) => l.startsWith("-N ") || l.startsWith("-A "));

    it("makes the chain; rules in it and jumping to it come and go as resources of their own; delete removes it", async () => {
        const { id, outs } = await p.create(await checked(p, { name: "OTHER-TOOL", netns: ns.name, owner: O }));
        assert.deepEqual(await S(), ["-N OTHER-TOOL"]);
        assert.deepEqual((await p.read!(id, outs)).props, outs);
        const R1 = owner("IptablesRule", "in"), R2 = owner("IptablesRule", "jump");
        const inside = await rules.create(await checked(rules, { chain: "OTHER-TOOL", source: "192.0.2.0/24", jump: "RETURN", netns: ns.name, owner: R1 }));
        const jump = await rules.create(await checked(rules, { chain: "FORWARD", jump: "OTHER-TOOL", netns: ns.name, owner: R2 }));
        assert.deepEqual(await S(), ["-N OTHER-TOOL", `-A FORWARD -m comment --comment "${R2}" -j OTHER-TOOL`, `-A OTHER-TOOL -s 192.0.2.0/24 -m comment --comment "${R1}" -j RETURN`]);
        await rules.delete!(jump.id, jump.outs);
        await rules.delete!(inside.id, inside.outs);
        await p.delete!(id, outs);
        assert.deepEqual(await S(), []);
        assert.deepEqual(await p.read!(id, outs), { id: "", props: {} }, "gone");
        await p.delete!(id, outs); // again
    });

    it("a chain deleted by hand: its rule reads as gone, and deleting both is success", async () => {
        const { id, outs } = await p.create(await checked(p, { name: "GONE", netns: ns.name, owner: O }));
        const R = owner("IptablesRule", "in-gone");
        const rule = await rules.create(await checked(rules, { chain: "GONE", jump: "RETURN", netns: ns.name, owner: R }));
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-F", "GONE"]);
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-X", "GONE"]);
        assert.deepEqual(await rules.read!(rule.id, rule.outs), { id: "", props: {} });
        assert.deepEqual(await p.read!(id, outs), { id: "", props: {} });
        await rules.delete!(rule.id, rule.outs);
        await p.delete!(id, outs);
        assert.deepEqual(await S(), []);
    });

    it("never deletes a chain that holds, or is jumped to by, a rule it does not manage: fails naming the rule, changes nothing", async () => {
        const { id, outs } = await p.create(await checked(p, { name: "MINE", netns: ns.name, owner: O }));
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-A", "MINE", "-j", "RETURN"]);
        await assert.rejects(p.delete!(id, outs), /cannot delete iptables chain MINE .*-A MINE -j RETURN.*Nothing was changed/);
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-F", "MINE"]);
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-A", "INPUT", "-j", "MINE"]);
        await assert.rejects(p.delete!(id, outs), /-A INPUT -j MINE/);
        assert.deepEqual(await S(), ["-N MINE", "-A INPUT -j MINE"]);
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-D", "INPUT", "-j", "MINE"]);
        await p.delete!(id, outs);
        assert.deepEqual(await S(), []);
    });

    it("an existing chain: refused unless adopt, taken back after a crash (its marker), in IPv6 and the nat table too", async () => {
        await sh(["ip", "netns", "exec", ns.name, "ip6tables", "-w", "-t", "nat", "-N", "SCRIPT"]);
        const decl = { name: "SCRIPT", table: "nat", family: 6, netns: ns.name, owner: O };
        await assert.rejects(p.create(await checked(p, decl)), /ip6tables chain SCRIPT \(table nat\) in namespace "ipc\S*" already exists, and this resource did not make it: set adopt: true/);
        const adopted = await p.create(await checked(p, { ...decl, adopt: true }));
        assert.match(await ip6tablesSave(ns.name), /:SCRIPT - \[0:0\]/);
        await p.create(await checked(p, decl)); // a create run again: its marker says it is this resource's
        await p.delete!(adopted.id, adopted.outs);
        assert.doesNotMatch(await ip6tablesSave(ns.name), /SCRIPT/);
        // Made by this resource, then a crash before the state was saved: create again takes it without adopt.
        const made = await p.create(await checked(p, decl));
        await p.create(await checked(p, decl));
        await p.delete!(made.id, made.outs);
        // Another resource's marker is not this one's.
        await sh(["ip", "netns", "exec", ns.name, "ip6tables", "-w", "-t", "nat", "-N", "SCRIPT"]);
        await assert.rejects(p.create(await checked(p, { ...decl, owner: owner("IptablesChain", "c2") })), /already exists/);
        await sh(["ip", "netns", "exec", ns.name, "ip6tables", "-w", "-t", "nat", "-X", "SCRIPT"]);
        assert.doesNotMatch(await iptablesSave(ns.name), /SCRIPT/);
    });

    it("fails clearly in a namespace that does not exist, and reads one gone as gone", async () => {
        await assert.rejects(p.create(await checked(p, { name: "C", netns: "no-such-ns", owner: O })), /namespace "no-such-ns" does not exist/);
        assert.deepEqual(await p.read!("x", await checked(p, { name: "C", netns: "no-such-ns", owner: O })), { id: "", props: {} });
    });
});
