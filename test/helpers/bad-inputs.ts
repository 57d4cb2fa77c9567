/**
 * Bad inputs of every resource, each with the property its failure must name: the reliability suite
 * checks each fails `check` (and `create`) before any command runs; the e2e suite that each is
 * refused the same way from a YAML program through the provider plugin.
 */
import type { handlers } from "../../provider/handlers";

export type Kind = keyof typeof handlers;

/** A valid input per resource; each case overrides some of it. */
export const VALID: Record<Kind, Record<string, unknown>> = {
    Netns: { name: "blue" },
    VethPair: { name: "veth0", peerName: "veth1", peerNetns: "blue", addresses: ["10.1.1.2/24"], peerAddresses: ["10.1.1.1/24"] },
    Bridge: { name: "br0", addresses: ["10.1.1.3/24"] },
    Route: { destination: "default", gateway: "10.1.1.3", netns: "blue" },
    MasqueradeRule: { source: "10.1.1.0/24", outInterface: "eth0" },
    ForwardRule: { inInterface: "br0" },
    SysctlForward: {},
    Macvlan: { name: "mv0", parent: "eth0", netns: "blue", addresses: ["192.168.1.50/24"] },
    Vxlan: { name: "vx0", vni: 42, local: "10.0.0.1", remote: "10.0.0.2", device: "eth0" },
    PortForward: { protocol: "tcp", hostPort: 8080, toAddress: "10.1.1.2" },
    ChainPolicy: { chain: "FORWARD", policy: "DROP", netns: "blue" },
    IptablesChain: { name: "OTHER-TOOL", netns: "blue" },
    IptablesRule: { chain: "INPUT", protocol: "tcp", destinationPort: 22, jump: "ACCEPT", netns: "blue" },
};

/** [resource, override of the valid input, the property the failure must name]. */
export const CASES: [Kind, Record<string, unknown>, string][] = [
    // Interface names.
    ["VethPair", { name: "x".repeat(16) }, "name"],
    ["VethPair", { name: "" }, "name"],
    ["VethPair", { name: "." }, "name"],
    ["VethPair", { name: ".." }, "name"],
    ["VethPair", { name: "a/b" }, "name"],
    ["VethPair", { name: "eth0:1" }, "name"],
    ["VethPair", { name: "veth 0" }, "name"],
    ["VethPair", { name: "veth0\n" }, "name"],
    ["VethPair", { name: "veth\u00000" }, "name"],
    ["VethPair", { name: "v\teth" }, "name"],
    ["VethPair", { name: "\u0435th0" }, "name"], // Cyrillic "е"
    ["VethPair", { name: "eth\uff10" }, "name"], // fullwidth digit zero
    ["VethPair", { name: "-rf" }, "name"],
    ["VethPair", { name: "--help" }, "name"],
    ["VethPair", { peerName: "$(reboot)" }, "peerName"],
    ["VethPair", { peerName: "a;reboot" }, "peerName"],
    ["VethPair", { peerName: "`id`" }, "peerName"],
    ["VethPair", { peerName: "a|b" }, "peerName"],
    ["VethPair", { peerName: "'x'" }, "peerName"],
    ["VethPair", { name: 42 }, "name"],
    ["VethPair", { master: "br0 up" }, "master"],
    ["VethPair", { peerMaster: "-n" }, "peerMaster"],
    ["VethPair", { name: "veth1", peerNetns: undefined }, "peerName"],
    ["Bridge", { name: "bridge-too-long-0" }, "name"],
    ["Bridge", { name: "br*" }, "name"],
    ["Route", { device: "dev>x" }, "device"],
    ["MasqueradeRule", { outInterface: "+eth0!" }, "outInterface"],
    ["ForwardRule", { inInterface: "-j" }, "inInterface"],
    // Namespace names.
    ["Netns", { name: "a/b" }, "name"],
    ["Netns", { name: ".." }, "name"],
    ["Netns", { name: "../etc" }, "name"],
    ["Netns", { name: "" }, "name"],
    ["Netns", { name: "-n" }, "name"],
    ["Netns", { name: "n".repeat(256) }, "name"],
    ["Netns", { name: "blue;rm" }, "name"],
    ["VethPair", { peerNetns: "/proc/1/ns/net" }, "peerNetns"],
    ["Route", { netns: "$HOME" }, "netns"],
    ["SysctlForward", { netns: "../../proc" }, "netns"],
    ["MasqueradeRule", { netns: "a b" }, "netns"],
    // Addresses and networks.
    ["VethPair", { addresses: ["10.1.1.2"] }, "addresses.0"],
    ["VethPair", { addresses: ["10.1.1.2/33"] }, "addresses.0"],
    ["VethPair", { addresses: ["10.1.1/24"] }, "addresses.0"],
    ["VethPair", { addresses: ["300.1.1.2/24"] }, "addresses.0"],
    ["VethPair", { addresses: ["010.1.1.2/24"] }, "addresses.0"],
    ["VethPair", { addresses: ["10.1.1.2/-1"] }, "addresses.0"],
    ["VethPair", { addresses: ["10.1.1.2/24/8"] }, "addresses.0"],
    ["VethPair", { addresses: [" 10.1.1.2/24"] }, "addresses.0"],
    ["VethPair", { peerAddresses: ["fd00::1/129"] }, "peerAddresses.0"],
    ["VethPair", { peerAddresses: ["fe80::1%eth0/64"] }, "peerAddresses.0"],
    ["VethPair", { peerAddresses: ["fd00:::1/64"] }, "peerAddresses.0"],
    ["VethPair", { addresses: ["10.1.1.2/24", "10.1.1.2/24"] }, "addresses"],
    ["Bridge", { addresses: "10.1.1.3/24" }, "addresses"],
    ["Route", { destination: "10.1.1.1/24", device: "eth0" }, "destination"], // host bits set
    ["Route", { destination: "10.1.0.0" }, "destination"],
    ["Route", { destination: "everywhere" }, "destination"],
    ["Route", { gateway: "10.1.1.3/24" }, "gateway"],
    ["Route", { gateway: "10.1.1.256" }, "gateway"],
    ["Route", { destination: "fd00:1::/64" }, "gateway"], // IPv4 gateway for an IPv6 network
    ["Route", { gateway: "fd00::1", source: "10.1.1.2" }, "source"],
    ["MasqueradeRule", { source: "10.1.1.1/24" }, "source"], // host bits set
    ["MasqueradeRule", { destination: "fd00::/64" }, "destination"],
    ["ForwardRule", { source: "10.1.0.0/16", destination: "fd00::/64" }, "destination"],
    ["ForwardRule", { source: "10.1.0.0/16", family: 6 }, "source"],
    // Numbers and the rest.
    ["VethPair", { mtu: 67 }, "mtu"],
    ["VethPair", { mtu: 65536 }, "mtu"],
    ["Bridge", { mtu: 1500.5 }, "mtu"],
    ["Bridge", { mtu: "1500" }, "mtu"],
    ["Bridge", { mtu: -1 }, "mtu"],
    ["Route", { gateway: undefined }, "gateway"], // neither gateway nor device
    ["Route", { metric: -1 }, "metric"],
    ["Route", { metric: 1.5 }, "metric"],
    ["Route", { table: 0 }, "table"],
    ["Route", { table: "local; reboot" }, "table"],
    ["MasqueradeRule", { source: undefined }, "source"],
    ["MasqueradeRule", { excludeOutInterface: "lo" }, "excludeOutInterface"],
    ["ForwardRule", { inInterface: undefined }, "(resource)"], // no match: would accept everything
    ["ForwardRule", { family: 5 }, "family"],
    ["SysctlForward", { ipv4: false }, "ipv4"],
    ["SysctlForward", { ipv6: "yes" }, "ipv6"],
    ["Netns", { loopbackUp: "true" }, "loopbackUp"],
    ["Bridge", { up: 1 }, "up"],
    ["SysctlForward", { restoreOnDelete: null }, "restoreOnDelete"],
    // Unknown properties (typos).
    ["VethPair", { adress: ["10.1.1.2/24"] }, "adress"],
    ["Bridge", { adresses: ["10.1.1.3/24"] }, "adresses"],
    ["Route", { gatway: "10.1.1.3" }, "gatway"],
    ["Netns", { loopback: true }, "loopback"],
    ["MasqueradeRule", { outinterface: "eth0" }, "outinterface"],
    ["ForwardRule", { establised: true }, "establised"],
    ["SysctlForward", { ipv4Forward: true }, "ipv4Forward"],
    ["VethPair", { owner: "pulumi-netns:*" }, "owner"], // the token is matched literally, never as a pattern
    // Macvlan, Vxlan, PortForward.
    ["Macvlan", { parent: "eth0;reboot" }, "parent"],
    ["Macvlan", { mode: "bridged" }, "mode"],
    ["Macvlan", { adresses: ["192.168.1.50/24"] }, "adresses"],
    ["Vxlan", { vni: 0 }, "vni"],
    ["Vxlan", { vni: 16777216 }, "vni"],
    ["Vxlan", { dstPort: 0 }, "dstPort"],
    ["Vxlan", { dstPort: 65536 }, "dstPort"],
    ["Vxlan", { remote: undefined }, "remote"], // neither remote nor group
    ["Vxlan", { group: "10.0.0.9" }, "group"], // not multicast (and with remote)
    ["PortForward", { hostPort: 0 }, "hostPort"],
    ["PortForward", { toPort: 70000 }, "toPort"],
    ["PortForward", { toAddress: "10.1.1.0/24" }, "toAddress"], // a network, not a host address
    ["PortForward", { protocol: "icmp" }, "protocol"],
    // MAC addresses, ChainPolicy.
    ["VethPair", { mac: "01:00:5e:00:00:01" }, "mac"], // multicast
    ["VethPair", { peerMac: "00:00:00:00:00:00" }, "peerMac"],
    ["Bridge", { mac: "0a:bc:de:f0:00:01; reboot" }, "mac"],
    ["Macvlan", { mac: "-a" }, "mac"],
    ["Vxlan", { mac: "0a:bc:de:f0:00" }, "mac"],
    ["ChainPolicy", { chain: "forward" }, "chain"],
    ["ChainPolicy", { chain: "DOCKER-USER" }, "chain"], // a user-defined chain has no policy
    ["ChainPolicy", { chain: "-F" }, "chain"],
    ["ChainPolicy", { table: "nat", chain: "POSTROUTING" }, "table"],
    ["ChainPolicy", { policy: "REJECT" }, "policy"],
    ["ChainPolicy", { family: 5 }, "family"],
    ["ChainPolicy", { netns: "../x" }, "netns"],
    // IptablesChain, IptablesRule.
    ["IptablesChain", { name: "FORWARD" }, "name"],
    ["IptablesChain", { name: "-X" }, "name"],
    ["IptablesChain", { name: "a;reboot" }, "name"],
    ["IptablesChain", { table: "security" }, "table"],
    ["IptablesRule", { chain: "POSTROUTING" }, "chain"],
    ["IptablesRule", { chain: "input" }, "chain"],
    ["IptablesRule", { jump: "accept" }, "jump"],
    ["IptablesRule", { jump: "$(reboot)" }, "jump"],
    ["IptablesRule", { jump: "DNAT", toDestination: "10.0.0.1" }, "jump"],
    ["IptablesRule", { protocol: undefined }, "destinationPort"],
    ["IptablesRule", { protocol: "all" }, "protocol"],
    ["IptablesRule", { source: "10.0.0.1/8" }, "source"],
    ["IptablesRule", { source: "10.0.0.0/8", destination: "fd00::/8" }, "destination"],
    ["IptablesRule", { destinationPort: "22; reboot" }, "destinationPort"],
    ["IptablesRule", { toPorts: 8080 }, "toPorts"],
    ["IptablesRule", { jump: "LOG", logPrefix: 'a"b' }, "logPrefix"],
    ["IptablesRule", { inInterface: "-i" }, "inInterface"],
    ["IptablesRule", { invert: ["source"] }, "invert"],
    ["IptablesRule", { placement: "top" }, "placement"],
];
