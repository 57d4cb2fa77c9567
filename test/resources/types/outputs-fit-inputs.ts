// Compiled (not run) by test/resources/types.test.ts: every output of a resource passes to the
// matching input of another without `.apply`, and the types take what check accepts.
import * as netns from "../../../provider";

const blue = new netns.Netns("blue", { name: "blue", dns: { nameservers: ["10.0.0.53"] }, hosts: { "10.0.0.5": ["db"] } });
const br = new netns.Bridge("br", { name: "br0", addresses: ["10.1.1.3/16"] });
const veth = new netns.VethPair("veth", { name: "veth0", master: br.name, peerName: "veth1", peerNetns: blue.name, peerAddresses: ["10.1.1.1/16"] });

// Optional outputs (Output<T | undefined>) into optional inputs.
new netns.Route("default", { destination: "default", gateway: "10.1.1.3", netns: veth.peerNetns, device: veth.peerName, source: veth.peerAddresses.apply((a) => a[0].split("/")[0]) });
new netns.Route("local", { destination: "10.9.0.0/24", device: veth.name, table: "local", metric: veth.mtu });
new netns.Bridge("inner", { name: "br1", netns: veth.peerNetns, mtu: veth.mtu, up: veth.up, addresses: veth.peerAddresses, dad: veth.dad });
new netns.VethPair("copy", {
    name: "c0", peerName: "c1", netns: veth.netns, peerNetns: veth.peerNetns, master: veth.master, peerMaster: veth.peerMaster,
    addresses: veth.addresses, mtu: veth.mtu, up: veth.up, connection: veth.connection, sudo: veth.sudo,
});
new netns.Netns("red", { name: "red", loopbackUp: blue.loopbackUp, dns: blue.dns, hosts: blue.hosts, connection: blue.connection });
const masq = new netns.MasqueradeRule("masq", { source: "10.1.0.0/16", outInterface: veth.name, netns: veth.netns });
new netns.MasqueradeRule("masq2", { source: masq.source, destination: masq.destination, excludeOutInterface: masq.excludeOutInterface, netns: masq.netns });

// `family` is any number at compile time (check says 4 or 6).
const family: number = 6;
const fwd = new netns.ForwardRule("fwd", { inInterface: br.name, family, netns: veth.netns });
new netns.ForwardRule("fwd2", { outInterface: fwd.inInterface, source: fwd.source, family: fwd.family, established: fwd.established });
new netns.SysctlForward("fw", { netns: veth.peerNetns, ipv4: true, ipv6: fwd.established, restoreOnDelete: undefined });

// A chain's name into a rule's chain and jump; a rule's outputs into another rule.
const chain = new netns.IptablesChain("chain", { name: "OTHER-TOOL", netns: veth.peerNetns, family: fwd.family });
const rule = new netns.IptablesRule("rule", { chain: chain.name, protocol: "tcp", destinationPort: 22, ctstate: ["NEW"], jump: "ACCEPT", netns: chain.netns });
new netns.IptablesRule("jump", { chain: "INPUT", jump: chain.name, table: chain.table, family: chain.family, netns: chain.netns }, { dependsOn: [rule] });
new netns.IptablesRule("copy", {
    chain: rule.chain, jump: rule.jump, protocol: rule.protocol, destinationPort: rule.destinationPort, ctstate: rule.ctstate, invert: rule.invert,
    source: rule.source, inInterface: rule.inInterface, placement: rule.placement, toPorts: rule.toPorts, icmpType: rule.icmpType,
});

// Still refused: the wrong kind of value.
// @ts-expect-error a namespace is a string
new netns.Route("bad", { destination: "default", device: "x", netns: 5 });
// @ts-expect-error not a table name
new netns.Route("bad2", { destination: "default", device: "x", table: "mian" });
// @ts-expect-error a port is a number or a range string, not a list
new netns.IptablesRule("bad3", { chain: "INPUT", jump: "ACCEPT", protocol: "tcp", destinationPort: [22] });
