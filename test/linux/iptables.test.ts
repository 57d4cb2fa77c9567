import { strict as assert } from "assert";
import {
    appendRule, deleteRule, findRulesByComment, formatRule, insertRule, IptablesError, iptablesVariant, isSameRule,
    listRules, parseRuleLine, removeOwnedRules, Rule, ruleArgs, ruleExists,
} from "../../provider/linux/iptables";
import { localTarget } from "../../provider/linux/target";
import { ip6tablesSave, iptablesSave, sh, withFreshNetns } from "../helpers/kernel";
import { owner } from "../helpers/provider";
import { describePrivileged } from "../helpers/sandbox";

const TOKEN = owner("MasqueradeRule", "t1");

describe("linux/iptables: rule text (pure)", () => {
    const rule: Rule = { family: 4, table: "nat", chain: "POSTROUTING", spec: ["-s", "10.0.0.0/8", "-j", "MASQUERADE"], comment: TOKEN };

    it("puts the comment before the target and formats like iptables -S", () => {
        assert.deepEqual(ruleArgs(rule), ["-s", "10.0.0.0/8", "-m", "comment", "--comment", TOKEN, "-j", "MASQUERADE"]);
        assert.equal(formatRule(rule), `-A POSTROUTING -s 10.0.0.0/8 -m comment --comment "${TOKEN}" -j MASQUERADE`);
    });

    it("parses quoted and escaped arguments and compares rules by argument", () => {
        assert.deepEqual(parseRuleLine(`-A X -m comment --comment "a \\"b\\" c" -j ACCEPT`), ["-A", "X", "-m", "comment", "--comment", `a "b" c`, "-j", "ACCEPT"]);
        assert.ok(isSameRule(`-A POSTROUTING -s 10.0.0.0/8 -m comment --comment ${TOKEN} -j MASQUERADE`, rule));
        assert.ok(!isSameRule(`-A POSTROUTING -s 10.0.0.0/16 -m comment --comment "${TOKEN}" -j MASQUERADE`, rule));
    });
});

describePrivileged("linux/iptables: against the kernel", () => {
    const ns = withFreshNetns("ipt");
    const rule = (): Rule => ({ family: 4, table: "nat", chain: "POSTROUTING", spec: ["-s", "10.9.0.0/16", "-o", "eth9", "-j", "MASQUERADE"], comment: TOKEN, netns: ns.name });

    it("appends, checks, lists, finds by comment and deletes (already gone = success)", async () => {
        const r = rule();
        assert.equal(await ruleExists(localTarget, r), false);
        await appendRule(localTarget, r);
        assert.equal(await ruleExists(localTarget, r), true);
        const save = await iptablesSave(ns.name);
        assert.ok(save.includes(`-A POSTROUTING -s 10.9.0.0/16 -o eth9 -m comment --comment "${TOKEN}" -j MASQUERADE`), save);
        assert.deepEqual(await listRules(localTarget, "nat", "POSTROUTING", 4, ns.name), [formatRule(r)]);
        assert.deepEqual(await findRulesByComment(localTarget, "nat", "POSTROUTING", 4, TOKEN, ns.name), [formatRule(r)]);
        assert.deepEqual(await findRulesByComment(localTarget, "nat", "POSTROUTING", 4, "other", ns.name), []);
        assert.equal(await deleteRule(localTarget, r), true);
        assert.equal(await deleteRule(localTarget, r), false);
        assert.ok(!(await iptablesSave(ns.name)).includes(TOKEN));
    });

    it("inserts first, and removes only rules with its comment, altered ones included", async () => {
        const tables = ["iptables", "-w", "-t", "filter"];
        await sh(["ip", "netns", "exec", ns.name, ...tables, "-A", "FORWARD", "-i", "x0", "-j", "ACCEPT"]);
        await sh(["ip", "netns", "exec", ns.name, ...tables, "-A", "FORWARD", "-i", "x1", "-m", "comment", "--comment", "someone else", "-j", "ACCEPT"]);
        const r: Rule = { family: 4, table: "filter", chain: "FORWARD", spec: ["-i", "br0", "-j", "ACCEPT"], comment: TOKEN, netns: ns.name };
        await insertRule(localTarget, r);
        const listed = await listRules(localTarget, "filter", "FORWARD", 4, ns.name);
        assert.equal(listed![0], formatRule(r));
        // Altered by hand: same comment, other match.
        await sh(["ip", "netns", "exec", ns.name, ...tables, "-A", "FORWARD", "-i", "br1", "-m", "comment", "--comment", TOKEN, "-j", "ACCEPT"]);
        await removeOwnedRules(localTarget, r);
        assert.deepEqual(await listRules(localTarget, "filter", "FORWARD", 4, ns.name), [
            "-A FORWARD -i x0 -j ACCEPT",
            `-A FORWARD -i x1 -m comment --comment "someone else" -j ACCEPT`,
        ]);
        assert.match(await iptablesSave(ns.name), /:FORWARD ACCEPT/);
    });

    it("uses ip6tables for IPv6", async () => {
        const r: Rule = { family: 6, table: "nat", chain: "POSTROUTING", spec: ["-s", "fd00:1::/64", "-j", "MASQUERADE"], comment: TOKEN, netns: ns.name };
        await appendRule(localTarget, r);
        assert.ok((await ip6tablesSave(ns.name)).includes(formatRule(r)));
        assert.ok(!(await iptablesSave(ns.name)).includes(TOKEN));
        await deleteRule(localTarget, r);
        assert.ok(!(await ip6tablesSave(ns.name)).includes(TOKEN));
    });

    it("reports a missing namespace as undefined when listing, and as success when deleting", async () => {
        const r = { ...rule(), netns: "no-such-ns" };
        assert.equal(await listRules(localTarget, "nat", "POSTROUTING", 4, "no-such-ns"), undefined);
        assert.equal(await deleteRule(localTarget, r), false);
        await removeOwnedRules(localTarget, r);
    });

    it("names the variant, command, exit code and stderr when iptables refuses", async () => {
        const variant = await iptablesVariant(localTarget);
        assert.ok(variant === "nf_tables" || variant === "legacy");
        const bad: Rule = { ...rule(), spec: ["-j", "NO-SUCH-TARGET"] };
        const err = await appendRule(localTarget, bad).then(() => undefined, (e) => e);
        assert.ok(err instanceof IptablesError, String(err));
        assert.equal(err.variant, variant);
        assert.match(err.message, new RegExp(`iptables variant: ${variant}`));
        assert.match(err.message, /-A POSTROUTING/);
        assert.ok(err.exitCode !== 0 && err.stderr.length > 0);
        assert.ok(err.cause);
    });
});
