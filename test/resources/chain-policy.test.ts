import { strict as assert } from "assert";
import { chainPolicyProvider as p } from "../../provider/resources/chain-policy";
import { sh, withFreshNetns } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { describePrivileged } from "../helpers/sandbox";

const O = owner("ChainPolicy", "fw");

describe("resources/chain-policy: check and diff (no commands)", () => {
    it("leaves defaults out of the state, refuses what iptables would, naming the property, and runs nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(p, { chain: "FORWARD", policy: "DROP", owner: O }), { chain: "FORWARD", policy: "DROP", owner: O });
            assert.deepEqual(await checked(p, { chain: "FORWARD", policy: "DROP", table: "filter", owner: O }), { chain: "FORWARD", policy: "DROP", table: "filter", owner: O }, "a default the program gives is kept");
            assert.equal((await checked(p, { chain: "PREROUTING", table: "raw", policy: "DROP", family: 6, owner: O })).family, 6);
            assert.deepEqual(await failedProperties(p, { chain: "FORWARD", policy: "drop", family: 5, owner: O }), ["family", "policy"]);
            assert.deepEqual(await failedProperties(p, { chain: "FORWARD", policy: "REJECT", owner: O }), ["policy"]);
            assert.deepEqual(await failedProperties(p, { chain: "FORWARD", policy: "DROP", polcy: "x", owner: O }), ["polcy"]);
            const nat = await p.check!({}, { chain: "POSTROUTING", table: "nat", policy: "DROP", owner: O });
            assert.deepEqual(nat.failures!.map((f) => f.property), ["table"]);
            assert.match(nat.failures![0].reason, /the nat table's chains take no DROP policy/);
            const lower = await p.check!({}, { chain: "forward", policy: "DROP", owner: O });
            assert.deepEqual(lower.failures, [{ property: "chain", reason: '"forward" is not a chain\'s name: did you mean "FORWARD"? (chain names are upper case)' }]);
            const user = await p.check!({}, { chain: "DOCKER-USER", policy: "DROP", owner: O });
            assert.match(user.failures![0].reason, /"DOCKER-USER" is not a built-in chain of the filter table \(INPUT, FORWARD, OUTPUT\): only those have a policy/);
            assert.deepEqual(await failedProperties(p, { chain: "FORWARD", table: "raw", policy: "DROP", owner: O }), ["chain"]);
        });
        assert.deepEqual(cmds, []);
    });

    it("updates the policy in place; another chain, table, family or namespace replaces, the old one first", async () => {
        const o = { chain: "FORWARD", table: "filter", policy: "DROP", family: 4, restoreOnDelete: true, owner: O, previous: "ACCEPT" };
        assert.deepEqual(await p.diff!("x", o, { ...o, policy: "ACCEPT" }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await p.diff!("x", o, { ...o, restoreOnDelete: false }), { changes: true, replaces: [], deleteBeforeReplace: true });
        for (const k of [{ chain: "INPUT" }, { table: "mangle" }, { family: 6 }, { netns: "n" }]) {
            assert.deepEqual((await p.diff!("x", o, { ...o, ...k })).replaces, Object.keys(k));
        }
        const { previous: _p, ...inputs } = o;
        assert.equal((await p.diff!("x", o, inputs)).changes, false);
    });
});

describePrivileged("resources/chain-policy: against the kernel", () => {
    const ns = withFreshNetns("pol");
    const policies = async (family: 4 | 6, table = "filter") =>
        (await sh(["ip", "netns", "exec", ns.name, family === 6 ? "ip6tables" : "iptables", "-w", "-t", table, "-S"])).split("\n").filter((l) => l.startsWith("-P "));

    for (const family of [4, 6] as const) {
        it(`IPv${family}: sets the policy, reads drift, updates, puts the one found back on delete, idempotently`, async () => {
            const inputs = await checked(p, { chain: "FORWARD", policy: "DROP", family, netns: ns.name, owner: O });
            const { id, outs } = await p.create(inputs);
            assert.deepEqual(await policies(family), ["-P INPUT ACCEPT", "-P FORWARD DROP", "-P OUTPUT ACCEPT"]);
            assert.equal(outs.previous, "ACCEPT");
            assert.deepEqual(await p.read!(id, outs), { id, props: outs });
            if (family === 4) assert.deepEqual(await policies(6), ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"], "the other family untouched");

            await sh(["ip", "netns", "exec", ns.name, family === 6 ? "ip6tables" : "iptables", "-w", "-P", "FORWARD", "ACCEPT"]);
            const drifted = (await p.read!(id, outs)).props!;
            assert.equal(drifted.policy, "ACCEPT");
            assert.equal((await p.diff!(id, drifted, inputs)).changes, true);
            const { outs: repaired } = await p.update!(id, drifted, inputs);
            assert.deepEqual(await policies(family), ["-P INPUT ACCEPT", "-P FORWARD DROP", "-P OUTPUT ACCEPT"], "put back");
            assert.equal(repaired.previous, "ACCEPT", "the policy found at create is kept");

            await p.delete!(id, repaired);
            assert.deepEqual(await policies(family), ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]);
            await p.delete!(id, repaired);
            assert.deepEqual(await policies(family), ["-P INPUT ACCEPT", "-P FORWARD ACCEPT", "-P OUTPUT ACCEPT"]);
        });
    }

    it("changes the policy in place, in another table too", async () => {
        const inputs = await checked(p, { chain: "PREROUTING", table: "mangle", policy: "DROP", netns: ns.name, owner: O });
        const { id, outs } = await p.create(inputs);
        assert.ok((await policies(4, "mangle")).includes("-P PREROUTING DROP"));
        const { outs: accept } = await p.update!(id, outs, { ...inputs, policy: "ACCEPT" });
        assert.ok((await policies(4, "mangle")).includes("-P PREROUTING ACCEPT"));
        const { outs: drop } = await p.update!(id, accept, inputs);
        await p.delete!(id, drop);
        assert.ok((await policies(4, "mangle")).includes("-P PREROUTING ACCEPT"), "back to the one found at create");
    });

    it("leaves alone on delete a policy someone changed since, and one it found already set", async () => {
        // Found DROP, declared ACCEPT; someone sets DROP again by hand: it is theirs now, delete writes nothing.
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-P", "INPUT", "DROP"]);
        const inputs = await checked(p, { chain: "INPUT", policy: "ACCEPT", netns: ns.name, owner: O });
        const { id, outs } = await p.create(inputs);
        assert.equal(outs.previous, "DROP");
        assert.ok((await policies(4)).includes("-P INPUT ACCEPT"));
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-P", "INPUT", "ACCEPT"]);
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-P", "INPUT", "DROP"]);
        const cmds = await commandsDuring(() => p.delete!(id, outs));
        assert.deepEqual(cmds.filter((c) => c.includes("-P")), [], `no policy set: ${JSON.stringify(cmds)}`);
        assert.ok((await policies(4)).includes("-P INPUT DROP"));

        // restoreOnDelete: false keeps the declared policy.
        const keep = await p.create(await checked(p, { chain: "OUTPUT", policy: "DROP", netns: ns.name, restoreOnDelete: false, owner: O }));
        await p.delete!(keep.id, keep.outs);
        assert.ok((await policies(4)).includes("-P OUTPUT DROP"));
    });

    it("a create run again (crash before the state was saved) still puts back the policy found first", async () => {
        const inputs = await checked(p, { chain: "FORWARD", policy: "DROP", family: 6, netns: ns.name, owner: O });
        await p.create(inputs);
        const { id, outs } = await p.create(inputs);
        assert.equal(outs.previous, "ACCEPT", "from the marker, not the DROP it finds");
        await p.delete!(id, outs);
        assert.ok((await policies(6)).includes("-P FORWARD ACCEPT"));
    });

    it("adopt: a policy already as declared is taken as found (delete leaves it); another fails, changing nothing", async () => {
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-P", "FORWARD", "DROP"]);
        await assert.rejects(
            p.create(await checked(p, { chain: "FORWARD", policy: "ACCEPT", netns: ns.name, adopt: true, owner: O })),
            /cannot adopt the policy of iptables chain FORWARD \(table filter\) in namespace "[^"]+": it differs from the declaration \(policy: declared "ACCEPT", found "DROP"\)/,
        );
        assert.ok((await policies(4)).includes("-P FORWARD DROP"));
        const cmds = await commandsDuring(async () => {
            const { id, outs } = await p.create(await checked(p, { chain: "FORWARD", policy: "DROP", netns: ns.name, adopt: true, owner: O }));
            assert.equal(outs.previous, "DROP");
            await p.delete!(id, outs);
        });
        assert.deepEqual(cmds.filter((c) => c.includes("-P")), [], "adoption and delete set no policy");
        assert.ok((await policies(4)).includes("-P FORWARD DROP"));
    });

    it("fails clearly in a namespace that does not exist, and reads one gone as gone", async () => {
        const inputs = await checked(p, { chain: "FORWARD", policy: "DROP", netns: "no-such-ns", owner: O });
        await assert.rejects(p.create(inputs), /cannot set the policy of iptables chain FORWARD \(table filter\) in namespace "no-such-ns": namespace "no-such-ns" does not exist/);
        assert.deepEqual(await p.read!("x", { ...inputs, previous: "ACCEPT" }), { id: "", props: {} });
        await p.delete!("x", { ...inputs, previous: "ACCEPT" });
    });
});
