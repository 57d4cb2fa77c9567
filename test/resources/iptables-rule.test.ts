import { strict as assert } from "assert";
import { iptablesRule, iptablesRuleProvider as p, iptablesRuleSpec, IptablesRuleSchema, parseIptablesRule } from "../../provider/resources/iptables-rule";
import { formatRule, parseRuleLine } from "../../provider/linux/iptables";
import { ip6tablesSave, iptablesSave, sh, withFreshNetns } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { describePrivileged } from "../helpers/sandbox";

const O = owner("IptablesRule", "r1");

/** Declarations of many shapes, each with the line `iptables -S` must list for it (comment left out). */
const SHAPES: [Record<string, unknown>, string][] = [
    [{ chain: "FORWARD", source: "192.168.1.0/24", destination: "192.168.2.0/24", inInterface: "fw-host1", outInterface: "fw-host2", protocol: "icmp", jump: "ACCEPT" },
        "-A FORWARD -s 192.168.1.0/24 -d 192.168.2.0/24 -i fw-host1 -o fw-host2 -p icmp -j ACCEPT"],
    [{ chain: "INPUT", protocol: "tcp", destinationPort: 22, state: ["ESTABLISHED", "RELATED"], jump: "ACCEPT" },
        "-A INPUT -p tcp -m state --state RELATED,ESTABLISHED -m tcp --dport 22 -j ACCEPT"],
    [{ chain: "FORWARD", protocol: "tcp", sourcePort: "1000:2000", ctstate: ["NEW"], outInterface: "veth3", jump: "DROP" },
        "-A FORWARD -o veth3 -p tcp -m conntrack --ctstate NEW -m tcp --sport 1000:2000 -j DROP"],
    [{ chain: "INPUT", protocol: "icmp", icmpType: "echo-request", jump: "ACCEPT" }, "-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"],
    [{ chain: "INPUT", source: "10.0.0.0/8", inInterface: "lo", invert: ["source", "inInterface"], jump: "DROP" }, "-A INPUT ! -s 10.0.0.0/8 ! -i lo -j DROP"],
    [{ chain: "INPUT", protocol: "tcp", destinationPort: 22, invert: ["destinationPort"], jump: "REJECT" },
        "-A INPUT -p tcp -m tcp ! --dport 22 -j REJECT --reject-with icmp-port-unreachable"],
    [{ chain: "INPUT", protocol: "tcp", jump: "REJECT", rejectWith: "tcp-reset" }, "-A INPUT -p tcp -j REJECT --reject-with tcp-reset"],
    [{ chain: "OUTPUT", jump: "LOG", logPrefix: "fw: " }, '-A OUTPUT -j LOG --log-prefix "fw: "'],
    [{ chain: "FORWARD", outInterface: "veth3", protocol: "tcp", tcpFlags: { mask: ["SYN", "FIN", "ACK", "RST"], set: ["SYN"] }, ctstate: ["NEW"], jump: "ACCEPT" },
        "-A FORWARD -o veth3 -p tcp -m conntrack --ctstate NEW -m tcp --tcp-flags FIN,SYN,RST,ACK SYN -j ACCEPT"],
    [{ chain: "INPUT", protocol: "tcp", destinationPort: 22, tcpFlags: { mask: ["ALL"], set: ["NONE"] }, invert: ["tcpFlags"], jump: "DROP" },
        "-A INPUT -p tcp -m tcp --dport 22 ! --tcp-flags FIN,SYN,RST,PSH,ACK,URG NONE -j DROP"],
    [{ table: "nat", chain: "PREROUTING", destination: "203.0.113.254", protocol: "tcp", destinationPort: 54321, jump: "DNAT", toDestination: "192.0.2.1" },
        "-A PREROUTING -d 203.0.113.254/32 -p tcp -m tcp --dport 54321 -j DNAT --to-destination 192.0.2.1"],
    [{ table: "nat", chain: "PREROUTING", protocol: "tcp", destinationPort: 80, jump: "REDIRECT", toPorts: 8080 }, "-A PREROUTING -p tcp -m tcp --dport 80 -j REDIRECT --to-ports 8080"],
    [{ table: "nat", chain: "POSTROUTING", source: "10.0.0.0/8", protocol: "udp", jump: "SNAT", toSource: "198.51.100.1:1000-2000" },
        "-A POSTROUTING -s 10.0.0.0/8 -p udp -j SNAT --to-source 198.51.100.1:1000-2000"],
    [{ table: "nat", chain: "POSTROUTING", outInterface: "up0", protocol: "tcp", jump: "MASQUERADE" }, "-A POSTROUTING -o up0 -p tcp -j MASQUERADE"],
    [{ table: "mangle", chain: "FORWARD", protocol: "tcp", destinationPort: 443, jump: "ACCEPT" }, "-A FORWARD -p tcp -m tcp --dport 443 -j ACCEPT"],
    [{ table: "raw", chain: "PREROUTING", inInterface: "veth+", jump: "ACCEPT" }, "-A PREROUTING -i veth+ -j ACCEPT"],
    // IPv6
    [{ chain: "INPUT", protocol: "icmpv6", jump: "ACCEPT" }, "-A INPUT -p ipv6-icmp -j ACCEPT"],
    [{ chain: "INPUT", protocol: "icmpv6", icmpType: "echo-request", jump: "ACCEPT" }, "-A INPUT -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"],
    [{ chain: "FORWARD", source: "fd00:1::/64", destination: "FD00:2::1", jump: "REJECT" }, "-A FORWARD -s fd00:1::/64 -d fd00:2::1/128 -j REJECT --reject-with icmp6-port-unreachable"],
    [{ table: "nat", chain: "PREROUTING", protocol: "tcp", destinationPort: 80, jump: "DNAT", toDestination: "[FD00::1]:8080" },
        "-A PREROUTING -p tcp -m tcp --dport 80 -j DNAT --to-destination [fd00::1]:8080"],
];

const familyOfShape = (line: string) => (/[0-9a-f]*:[0-9a-f]*:|ipv6-icmp|icmp6/.test(line) ? 6 : 4);

describe("resources/iptables-rule: check, diff, and the rule as iptables lists it (no commands)", () => {
    it("validates, normalises and runs nothing; each failure names its property", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(p, { chain: "INPUT", jump: "ACCEPT", source: "192.0.2.1", protocol: "ICMPv6", owner: O }).catch(() => "x"), "x", "IPv4 source with icmpv6 is refused");
            assert.deepEqual(await checked(p, { chain: "INPUT", jump: "ACCEPT", source: "192.0.2.1", owner: O }), { chain: "INPUT", source: "192.0.2.1/32", jump: "ACCEPT", owner: O });
            assert.deepEqual((await checked(p, { table: "nat", chain: "PREROUTING", protocol: "tcp", jump: "DNAT", toDestination: "[FD00:0::1]:80", owner: O })).toDestination, "[fd00::1]:80");
            const bad: [Record<string, unknown>, string[]][] = [
                [{ chain: "POSTROUTING", jump: "ACCEPT" }, ["chain"]], // not a filter chain
                [{ chain: "forward", jump: "ACCEPT" }, ["chain"]],
                [{ chain: "-F", jump: "ACCEPT" }, ["chain"]],
                [{ chain: "INPUT", jump: "accept" }, ["jump"]],
                [{ chain: "INPUT", jump: "FORWARD" }, ["jump"]],
                [{ chain: "INPUT", jump: "x y" }, ["jump"]],
                [{ chain: "INPUT", jump: "DNAT", toDestination: "10.0.0.1" }, ["jump"]], // DNAT in filter
                [{ table: "nat", chain: "PREROUTING", jump: "DNAT" }, ["toDestination"]],
                [{ table: "nat", chain: "POSTROUTING", jump: "SNAT" }, ["toSource"]],
                [{ table: "nat", chain: "PREROUTING", jump: "DROP" }, ["jump"]],
                [{ table: "nat", chain: "PREROUTING", jump: "REDIRECT", toPorts: 8080 }, ["toPorts"]], // no protocol
                [{ chain: "INPUT", jump: "ACCEPT", toDestination: "10.0.0.1" }, ["toDestination"]],
                [{ chain: "INPUT", jump: "ACCEPT", destinationPort: 22 }, ["destinationPort"]],
                [{ chain: "INPUT", jump: "ACCEPT", protocol: "udp", destinationPort: 70000 }, ["destinationPort"]],
                [{ chain: "INPUT", jump: "ACCEPT", protocol: "udp", destinationPort: "2000:1000" }, ["destinationPort"]],
                [{ chain: "INPUT", jump: "ACCEPT", protocol: "all" }, ["protocol"]],
                [{ chain: "INPUT", jump: "ACCEPT", icmpType: 8 }, ["icmpType"]],
                [{ chain: "INPUT", jump: "ACCEPT", protocol: "icmp", icmpType: "ping" }, ["icmpType"]],
                [{ chain: "INPUT", jump: "ACCEPT", source: "10.0.0.1/8" }, ["source"]], // host bits
                [{ chain: "INPUT", jump: "ACCEPT", source: "10.0.0.0/8", destination: "fd00::/8" }, ["destination"]],
                [{ chain: "INPUT", jump: "ACCEPT", source: "10.0.0.0/8", family: 6 }, ["source"]],
                [{ chain: "INPUT", jump: "REJECT", rejectWith: "icmp6-no-route" }, ["rejectWith"]],
                [{ chain: "INPUT", jump: "REJECT", rejectWith: "tcp-reset" }, ["rejectWith"]],
                [{ chain: "INPUT", jump: "ACCEPT", invert: ["source"] }, ["invert"]],
                [{ chain: "INPUT", jump: "ACCEPT", ctstate: ["new"] }, ["ctstate.0"]],
                [{ chain: "OUTPUT", jump: "ACCEPT", inInterface: "eth0" }, ["inInterface"]],
                [{ chain: "INPUT", jump: "ACCEPT", outInterface: "eth0" }, ["outInterface"]],
                [{ chain: "INPUT", jump: "LOG", logPrefix: "x".repeat(30) }, ["logPrefix"]],
                [{ chain: "INPUT", jump: "ACCEPT", placement: "first" }, ["placement"]],
                [{ chain: "INPUT", jump: "ACCEPT", tcpFlags: { mask: ["SYN"], set: ["SYN"] } }, ["tcpFlags"]], // no protocol tcp
                [{ chain: "INPUT", jump: "ACCEPT", protocol: "tcp", tcpFlags: { mask: ["SYN"], set: ["ACK"] } }, ["tcpFlags"]],
                [{ chain: "INPUT", jump: "ACCEPT", protocol: "tcp", tcpFlags: { mask: ["syn"], set: [] } }, ["tcpFlags.mask.0"]],
                [{ chain: "INPUT", jump: "ACCEPT", netns: "../x" }, ["netns"]],
                [{ chain: "INPUT", jump: "ACCEPT", sport: 22 }, ["sport"]],
            ];
            for (const [args, props] of bad) assert.deepEqual(await failedProperties(p, { ...args, owner: O }), props, JSON.stringify(args));
        });
        assert.deepEqual(cmds, []);
    });

    it("builds each shape as iptables lists it, and reads each listing back to the same rule", async () => {
        for (const [args, line] of SHAPES) {
            const a = IptablesRuleSchema.parse({ ...args, owner: O });
            assert.deepEqual(["-A", a.chain, ...iptablesRuleSpec(a)], parseRuleLine(line), JSON.stringify(args));
            const parsed = parseIptablesRule(parseRuleLine(line).slice(2));
            assert.ok("args" in parsed, line);
            const back = IptablesRuleSchema.parse({ ...parsed.args, table: a.table, chain: a.chain, family: familyOfShape(line), owner: O });
            assert.deepEqual(iptablesRuleSpec(back), iptablesRuleSpec(a), line);
        }
    });

    it("takes a script's rule, in another order or spelling, as the same rule; names what it cannot declare", () => {
        const a = IptablesRuleSchema.parse({ chain: "FORWARD", protocol: "tcp", destinationPort: 22, ctstate: ["ESTABLISHED", "RELATED"], jump: "ACCEPT", owner: O });
        const rule = iptablesRule(a);
        assert.ok(rule.same!(["-p", "tcp", "-m", "tcp", "--dport", "22", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]));
        assert.ok(!rule.same!(["-p", "tcp", "-m", "tcp", "--dport", "23", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-j", "ACCEPT"]));
        assert.ok(!rule.same!(["-p", "tcp", "-m", "tcp", "--dport", "22", "-m", "comment", "--comment", "other", "-j", "ACCEPT"]));
        const problem = (line: string) => {
            const r = parseIptablesRule(parseRuleLine(line));
            return "problem" in r ? r.problem : undefined;
        };
        assert.match(problem("-p udp -m multiport --dports 53,67 -j ACCEPT")!, /-m multiport/);
        assert.match(problem("-p tcp -m tcp --tcp-option 2 -j ACCEPT")!, /--tcp-option/);
        assert.ok(rule.same!(["-p", "tcp", "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED", "-m", "tcp", "--dport", "22", "-j", "ACCEPT"]));
        assert.match(problem("-j LOG --log-prefix x --log-level 4")!, /--log-level/);
        assert.match(problem("-g MYCH")!, /goto/);
        assert.match(problem("-s 10.0.0.0/8")!, /no target/);
        assert.deepEqual(parseIptablesRule(parseRuleLine('-s 10.0.0.0/8 -m comment --comment "docker rule" -j RETURN')), { args: { source: "10.0.0.0/8", jump: "RETURN" }, comment: "docker rule" });
    });

    it("replaces on any change, leaves an omitted family alone, and sees a rule edited by hand", async () => {
        const news = await checked(p, { chain: "INPUT", protocol: "tcp", destinationPort: 22, jump: "ACCEPT", owner: O });
        const rule = formatRule(iptablesRule(IptablesRuleSchema.parse(news)));
        const state = { ...news, family: 4, rule };
        assert.deepEqual(await p.diff!("x", state, news), { changes: false, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual((await p.diff!("x", state, { ...news, destinationPort: 23 })).replaces, ["destinationPort"]);
        assert.deepEqual((await p.diff!("x", state, { ...news, placement: "insert" })).replaces, ["placement"]);
        assert.deepEqual((await p.diff!("x", { ...state, rule: rule.replace("--dport 22", "--dport 2222") }, news)).replaces, ["rule"]);
    });
});

describePrivileged("resources/iptables-rule: against the kernel", () => {
    const ns = withFreshNetns("ipr");
    const save = async (family: 4 | 6) => (family === 6 ? ip6tablesSave(ns.name) : iptablesSave(ns.name));
    const listed = async (family: 4 | 6, table: string, chain: string) =>
        (await sh(["ip", "netns", "exec", ns.name, family === 6 ? "ip6tables" : "iptables", "-w", "-t", table, "-S", chain])).split("\n").filter((l) => l.startsWith("-A "));

    it("makes every shape exactly as iptables lists it, reads it without drift, and deletes only it", async () => {
        for (const [args, line] of SHAPES) {
            const inputs = await checked(p, { ...args, netns: ns.name, owner: O });
            const family = familyOfShape(line);
            const { id, outs } = await p.create(inputs);
            const table = (args.table as string) ?? "filter";
            const expected = formatRule(iptablesRule(IptablesRuleSchema.parse(inputs)));
            assert.deepEqual(await listed(family, table, args.chain as string), [expected], line);
            assert.deepEqual(parseRuleLine(expected).filter((a, i, all) => a !== O && !(a === "-m" && all[i + 1] === "comment") && a !== "comment" && a !== "--comment"), parseRuleLine(line));
            assert.equal(outs.family, family);
            const read = await p.read!(id, outs);
            assert.deepEqual(read.props, outs, `no drift for ${line}`);
            assert.equal((await p.diff!(id, read.props!, inputs)).changes, false);
            await p.delete!(id, outs);
            assert.deepEqual(await listed(family, table, args.chain as string), [], `deleted: ${line}`);
            await p.delete!(id, outs); // again: nothing left to delete
        }
    });

    it("appends, or inserts first, next to rules it does not own, which it never touches", async () => {
        const ipt = (...a: string[]) => sh(["ip", "netns", "exec", ns.name, "iptables", "-w", ...a]);
        await ipt("-A", "INPUT", "-i", "lo", "-j", "ACCEPT");
        await ipt("-A", "INPUT", "-p", "tcp", "--dport", "22", "-j", "ACCEPT");
        const last = await p.create(await checked(p, { chain: "INPUT", protocol: "tcp", jump: "DROP", netns: ns.name, owner: O }));
        const O2 = owner("IptablesRule", "r2");
        const first = await p.create(await checked(p, { chain: "INPUT", protocol: "udp", jump: "DROP", placement: "insert", netns: ns.name, owner: O2 }));
        const lines = await listed(4, "filter", "INPUT");
        assert.equal(lines.length, 4);
        assert.match(lines[0], new RegExp(`-p udp -m comment --comment "?${O2}"? -j DROP`));
        assert.match(lines[3], new RegExp(`-p tcp -m comment --comment "?${O}"? -j DROP`));
        await p.delete!(last.id, last.outs);
        await p.delete!(first.id, first.outs);
        assert.deepEqual(await listed(4, "filter", "INPUT"), ["-A INPUT -i lo -j ACCEPT", "-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"]);
    });

    it("adopt: a script's rule, written in another order, keeps its place and its arguments and gains only the comment", async () => {
        const ipt = (...a: string[]) => sh(["ip", "netns", "exec", ns.name, "iptables", "-w", ...a]);
        await ipt("-A", "FORWARD", "-i", "a0", "-j", "ACCEPT");
        await ipt("-A", "FORWARD", "-p", "tcp", "--dport", "22", "-m", "state", "--state", "ESTABLISHED,RELATED", "-j", "ACCEPT");
        await ipt("-A", "FORWARD", "-j", "DROP");
        const script = await listed(4, "filter", "FORWARD");
        assert.equal(script[1], "-A FORWARD -p tcp -m tcp --dport 22 -m state --state RELATED,ESTABLISHED -j ACCEPT");
        const decl = { chain: "FORWARD", protocol: "tcp", destinationPort: 22, state: ["RELATED", "ESTABLISHED"], jump: "ACCEPT", netns: ns.name, owner: O };
        const { id, outs } = await p.create(await checked(p, { ...decl, adopt: true }));
        const after = await listed(4, "filter", "FORWARD");
        assert.deepEqual(after.map((l) => l.replace(` -m comment --comment "${O}"`, "").replace(` -m comment --comment ${O}`, "")), script, "only the comment was added, in place");
        assert.ok(after[1].includes(O));
        assert.equal(outs.rule, formatRule(iptablesRule(IptablesRuleSchema.parse(decl))), "the state holds the declared form");
        const read = await p.read!(id, outs);
        assert.equal(read.props!.rule, after[1], "read lists it as the kernel has it");
        assert.equal((await p.diff!(id, read.props!, await checked(p, decl))).changes, false, "and that is no drift");
        await p.create(await checked(p, { ...decl, adopt: true })); // a create run again finds it by its comment
        assert.equal((await iptablesSave(ns.name)).split(O).length - 1, 1);
        await p.delete!(id, read.props!);
        assert.deepEqual(await listed(4, "filter", "FORWARD"), [script[0], script[2]]);
    });

    it("sees a rule edited by hand as drift; fails clearly in a namespace that does not exist", async () => {
        const decl = { chain: "INPUT", protocol: "tcp", destinationPort: 22, jump: "ACCEPT", netns: ns.name, owner: O };
        const { id, outs } = await p.create(await checked(p, decl));
        await sh(["ip", "netns", "exec", ns.name, "iptables", "-w", "-R", "INPUT", "1", "-p", "tcp", "--dport", "2222", "-m", "comment", "--comment", O, "-j", "ACCEPT"]);
        const drifted = (await p.read!(id, outs)).props!;
        assert.match(drifted.rule, /--dport 2222/);
        assert.deepEqual((await p.diff!(id, drifted, await checked(p, decl))).replaces, ["rule"]);
        await p.delete!(id, drifted);
        assert.ok(!(await save(4)).includes(O));
        await assert.rejects(p.create(await checked(p, { ...decl, netns: "no-such-ns" })), /no-such-ns/);
    });
});
