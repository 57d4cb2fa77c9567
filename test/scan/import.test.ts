import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { declare, IMPORT_GRAMMAR, importId, KINDS, parseImportId, Ref, renderImport } from "../../provider/scan";
import { emptyTopology, natTopology } from "./fixtures/topology";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");

/** Inputs as scan declares them, and the id each gets: every kind, in namespaces and the root, both families. */
const SAMPLES: [string, Record<string, unknown>, string][] = [
    ["Netns", { name: "blue", loopbackUp: false }, "blue"],
    ["Netns", { name: "10.0.0.0" }, "10.0.0.0"],
    ["Bridge", { name: "br0", addresses: ["10.1.1.3/16"], mac: "0a:00:00:00:00:03" }, "br0"],
    ["Bridge", { name: "br-lan", netns: new Ref("blue", "name", "blue") }, "blue/br-lan"],
    ["VethPair", { name: "veth0", master: new Ref("br0", "name", "br0"), peerName: "eth0", peerNetns: "blue" }, "veth0"],
    ["VethPair", { name: "v.1@x", netns: "10.0.0.0", peerName: "v2", peerNetns: "ns2" }, "10.0.0.0/v.1@x"],
    ["Macvlan", { name: "mv0", parent: "eth0", netns: "blue" }, "blue/mv0"],
    ["Vxlan", { name: "vx0", vni: 100, remote: "10.46.0.2", netns: "left" }, "left/vx0"],
    ["Route", { destination: "default", gateway: "10.1.1.3", device: "veth1", netns: "blue" }, "blue/default"],
    ["Route", { destination: "10.2.0.0/16", device: "br0" }, "10.2.0.0/16"],
    ["Route", { destination: "10.2.0.0/16", gateway: "10.0.0.1", netns: "10.0.0.0", metric: 100 }, "10.0.0.0/10.2.0.0/16 metric 100"],
    ["Route", { destination: "default", gateway: "fd00::1", netns: "blue", metric: 100 }, "blue/-6 default metric 100"],
    ["Route", { destination: "fd00:2::/64", device: "eth0", table: 100 }, "-6 fd00:2::/64 table 100"],
    ["MasqueradeRule", { source: "10.0.0.0/24", outInterface: "eth0" }, "-t nat -A POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE"],
    ["MasqueradeRule", { source: "fd00::/64", destination: "fd01::/64", excludeOutInterface: new Ref("br0", "name", "br0"), netns: "blue" }, "blue/-6 -t nat -A POSTROUTING -s fd00::/64 -d fd01::/64 ! -o br0 -j MASQUERADE"],
    ["ForwardRule", { inInterface: "br0", established: true }, "-A FORWARD -i br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"],
    ["ForwardRule", { outInterface: "br0", source: "10.1.0.0/16", destination: "10.2.0.0/16" }, "-A FORWARD -s 10.1.0.0/16 -d 10.2.0.0/16 -o br0 -j ACCEPT"],
    ["ForwardRule", { inInterface: "br0", family: 6, netns: "fw" }, "fw/-6 -A FORWARD -i br0 -j ACCEPT"],
    ["PortForward", { protocol: "tcp", hostPort: 8080, toAddress: "10.1.0.2/24", toPort: 80, netns: "left" }, "left/tcp 8080 to 10.1.0.2:80"],
    ["PortForward", { protocol: "udp", hostPort: 53, hostAddress: "2001:db8::1", toAddress: "fd00::2" }, "udp [2001:db8::1]:53 to [fd00::2]:53"],
    ["PortForward", { protocol: "tcp", hostPort: 443, hostAddress: "192.0.2.1", toAddress: "10.1.0.2" }, "tcp 192.0.2.1:443 to 10.1.0.2:443"],
    ["SysctlForward", {}, "net.ipv4.ip_forward"],
    ["SysctlForward", { netns: "blue", ipv4: false, ipv6: true }, "blue/net.ipv6.conf.all.forwarding"],
    ["SysctlForward", { netns: "blue", ipv6: true }, "blue/net.ipv4.ip_forward net.ipv6.conf.all.forwarding"],
    ["ChainPolicy", { chain: "FORWARD", policy: "DROP" }, "-P FORWARD DROP"],
    ["ChainPolicy", { chain: "PREROUTING", table: "mangle", policy: "DROP", family: 6, netns: "fw" }, "fw/-6 -t mangle -P PREROUTING DROP"],
    ["IptablesChain", { name: "MY-CHAIN", table: "nat", netns: "blue" }, "blue/-t nat -N MY-CHAIN"],
    ["IptablesChain", { name: "F.1", family: 6 }, "-6 -N F.1"],
    ["IptablesRule", { chain: "INPUT", protocol: "tcp", destinationPort: 22, state: ["RELATED", "ESTABLISHED"], jump: "ACCEPT" }, "-A INPUT -p tcp -m state --state RELATED,ESTABLISHED -m tcp --dport 22 -j ACCEPT"],
    ["IptablesRule", { table: "nat", chain: "PREROUTING", destination: "203.0.113.254/32", protocol: "tcp", destinationPort: 54321, jump: "DNAT", toDestination: "192.0.2.1" }, "-t nat -A PREROUTING -d 203.0.113.254/32 -p tcp -m tcp --dport 54321 -j DNAT --to-destination 192.0.2.1"],
    ["IptablesRule", { chain: new Ref("c", "name", "OTHER-TOOL"), source: "192.0.2.0/24", jump: "RETURN", netns: "blue" }, "blue/-A OTHER-TOOL -s 192.0.2.0/24 -j RETURN"],
    ["IptablesRule", { chain: "INPUT", jump: "LOG", logPrefix: "fw in: " }, '-A INPUT -j LOG --log-prefix "fw in: "'],
    ["IptablesRule", { chain: "INPUT", family: 6, protocol: "tcp", jump: "DROP", netns: "blue" }, "blue/-6 -A INPUT -p tcp -j DROP"],
    ["IptablesRule", { chain: "INPUT", protocol: "ipv6-icmp", icmpType: 128, invert: ["protocol"], jump: "ACCEPT", netns: "blue" }, "blue/-6 -A INPUT ! -p ipv6-icmp -m icmp6 --icmpv6-type 128 -j ACCEPT"],
];

describe("scan/import: import ids and the pulumi import file (no commands)", () => {
    it("writes the import file of fixtures/nat-import.json: every declared object, by its YAML name and its id", () => {
        assert.equal(renderImport(natTopology()), fixture("nat-import.json"));
        const file = JSON.parse(fixture("nat-import.json"));
        assert.deepEqual(file.resources.map((r: any) => [r.type, r.name]), declare(natTopology()).map((d) => [`netns:index:${d.kind}`, d.key]));
        assert.deepEqual(JSON.parse(renderImport(emptyTopology())), { resources: [] });
    });

    it("prints each kind's id, and parses back what it prints: the namespace apart, the same id again", () => {
        assert.deepEqual([...new Set(SAMPLES.map(([k]) => k))].sort(), [...KINDS].sort(), "a sample of every kind");
        for (const [kind, inputs, id] of SAMPLES) {
            assert.equal(importId(kind, inputs), id, kind);
            const parsed = parseImportId(kind, id);
            const ns = inputs.netns instanceof Ref ? inputs.netns.value : inputs.netns;
            assert.equal(parsed.netns, kind === "Netns" ? undefined : ns, id);
            assert.equal(importId(kind, parsed.inputs), id, `${kind} ${id}`);
            assert.equal(importId(`netns:index:${kind}`, parsed.inputs), id, "the type token names the kind too");
        }
        for (const d of declare(natTopology())) assert.equal(importId(d.kind, parseImportId(d.kind, importId(d.kind, d.inputs)).inputs), importId(d.kind, d.inputs), d.key);
    });

    it("reads an id written in another order or spelling of the same object as its one id", () => {
        for (const [kind, id, canonical] of [
            ["MasqueradeRule", "-t nat -A POSTROUTING -o eth0 -s 10.0.0.0/24 -j MASQUERADE", "-t nat -A POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE"],
            ["ForwardRule", "-t filter -A FORWARD -m conntrack --ctstate RELATED,ESTABLISHED -i br0 -j ACCEPT", "-A FORWARD -i br0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"],
            ["IptablesRule", "blue/-A INPUT -m tcp --dport 22 -p tcp -j ACCEPT", "blue/-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT"],
            ["IptablesRule", "-A INPUT -p icmp -m icmp --icmp-type echo-request -j ACCEPT", "-A INPUT -p icmp -m icmp --icmp-type 8 -j ACCEPT"],
            ["Route", "blue/fd00:2:0::/64 metric 5", "blue/-6 fd00:2::/64 metric 5"],
            ["Route", "blue/default table main", "blue/default"],
            ["PortForward", "tcp 8080 to 10.1.0.2", "tcp 8080 to 10.1.0.2:8080"],
            ["SysctlForward", "blue/net.ipv6.conf.all.forwarding   net.ipv4.ip_forward", "blue/net.ipv4.ip_forward net.ipv6.conf.all.forwarding"],
            ["ChainPolicy", "-t filter -P INPUT DROP", "-P INPUT DROP"],
        ]) {
            assert.equal(importId(kind, parseImportId(kind, id).inputs), canonical, id);
        }
    });

    it("refuses a bad id with why, the kind's grammar and an example", () => {
        for (const [kind, id, why] of [
            ["Netns", "a/b", /may contain only ASCII letters/],
            ["Bridge", "blue/", /must not be empty/],
            ["VethPair", "x/y/z", /may contain only ASCII letters/],
            ["Macvlan", "-mv0", /must not start with '-'/],
            ["Route", "10.0.0.1/24", /destination 10\.0\.0\.1\/24 has host bits set .*did you mean 10\.0\.0\.0\/24/],
            ["Route", "blue/default metric x", /metric x is not a whole number/],
            ["Route", "blue/default via 10.0.0.1", /expected " table TABLE" then " metric METRIC"/],
            ["Route", "-6 10.0.0.0/8", /-6 with the IPv4 destination/],
            ["MasqueradeRule", "-A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE", /a MASQUERADE rule is in -t nat -A POSTROUTING/],
            ["MasqueradeRule", "-6 -t nat -A POSTROUTING -s 10.0.0.0/24 -j MASQUERADE", /10\.0\.0\.0\/24 is IPv4: leave out -6/],
            ["MasqueradeRule", "-t nat -A POSTROUTING -s 10.0.0.0/24 -p tcp -j MASQUERADE", /not a rule a MasqueradeRule makes/],
            ["ForwardRule", "-A FORWARD -j ACCEPT", /give at least one of inInterface/],
            ["ForwardRule", "FORWARD -i br0 -j ACCEPT", /expected -A CHAIN RULE, found "FORWARD"/],
            ["PortForward", "tcp 8080 to fd00::2:80", /fd00::2:80 is not ADDRESS:PORT \(an IPv6 address in brackets/],
            ["PortForward", "sctp 8080 to 10.1.0.2:80", /protocol: must be "tcp" or "udp"/],
            ["SysctlForward", "net.ipv4.conf.all.forwarding", /is not net\.ipv4\.ip_forward or net\.ipv6\.conf\.all\.forwarding/],
            ["ChainPolicy", "-P FORWARD", /-P takes a chain and its policy/],
            ["ChainPolicy", "-t nat -P PREROUTING DROP", /the nat table's chains take no DROP policy/],
            ["IptablesChain", "blue/-N INPUT", /is a built-in chain's name/],
            ["IptablesRule", "-A INPUT -p udp -m multiport --dports 53,67 -j ACCEPT", /match -m multiport, which no IptablesRule property makes/],
            ["IptablesRule", '-A INPUT -m comment --comment "x" -j ACCEPT', /without its comment/],
            ["IptablesRule", "-t nat -A POSTROUTING -j DROP", /the nat table is not for filtering/],
        ] as [string, string, RegExp][]) {
            const g = IMPORT_GRAMMAR[kind as keyof typeof IMPORT_GRAMMAR];
            assert.throws(() => parseImportId(kind, id), (err: Error) => {
                assert.match(err.message, new RegExp(`^bad import id for netns:index:${kind} ${JSON.stringify(id).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: `));
                assert.match(err.message, why);
                assert.ok(err.message.includes(`${/^[AEIOU]/.test(kind) ? "An" : "A"} ${kind}'s id is ${g.grammar}, e.g. ${JSON.stringify(g.example)}`), err.message);
                return true;
            }, `${kind} ${id}`);
        }
        assert.throws(() => parseImportId("netns:index:BridgedNetwork", "lan"), /pulumi-netns has no importable resource "netns:index:BridgedNetwork": it imports netns:index:Netns, /);
    });

    it("gives every example of the grammar, parsed, as its own id", () => {
        for (const [kind, { example }] of Object.entries(IMPORT_GRAMMAR)) assert.equal(importId(kind, parseImportId(kind, example).inputs), example, kind);
    });
});
