/**
 * Bad input: every case fails `check` with a failure naming the property, and `create` handed the
 * same input directly (as if check were skipped) rejects too; neither runs a single command.
 * Table-driven over every resource and BridgedNetwork's arguments.
 */
import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { planLan } from "../../provider/components/bridged-network";
import { handlers } from "../../provider/handlers";
import { commandsDuring, owner } from "../helpers/provider";

type Kind = keyof typeof handlers;

/** A valid input per resource; each case overrides some of it. */
const VALID: Record<Kind, Record<string, unknown>> = {
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
const CASES: [Kind, Record<string, unknown>, string][] = [
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

/** [description, BridgedNetwork arguments, text the error must contain]. */
const LAN_CASES: [string, Record<string, unknown>, RegExp][] = [
    ["bridge name too long", { bridge: "b".repeat(16), cidr: "10.1.0.0/24", namespaces: ["a"] }, /bridge/],
    ["namespace with a slash", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: ["a/b"] }, /namespaces/],
    ["cidr with host bits", { bridge: "br0", cidr: "10.1.0.1/24", namespaces: ["a"] }, /host bits[\s\S]*cidr/],
    ["cidr too small", { bridge: "br0", cidr: "10.1.0.0/30", namespaces: ["a", "b"] }, /too few/],
    ["gateway outside the cidr", { bridge: "br0", cidr: "10.1.0.0/24", gateway: "10.2.0.1", namespaces: ["a"] }, /gateway/],
    ["pinned address outside", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: [{ name: "a", address: "10.1.1.5" }] }, /namespaces\.a\.address/],
    ["namespace listed twice", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: ["a", "a"] }, /listed twice/],
    ["gateway of the other family", { bridge: "br0", cidr: "fd00::/64", gateway: "10.1.0.1", namespaces: ["a"] }, /gateway/],
    ["nat with both interfaces", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: [], nat: { outInterface: "a", excludeOutInterface: "b" } }, /nat/],
    ["unknown argument", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: [], bridgeName: "x" }, /bridgeName/],
];

/** Runs a provider method on the inputs and reports the error (undefined: it succeeded). */
async function failure(fn: () => Promise<unknown>): Promise<Error | undefined> {
    try {
        await fn();
        return undefined;
    } catch (err) {
        return err as Error;
    }
}

function inputsOf(kind: Kind, override: Record<string, unknown>): Record<string, unknown> {
    const inputs: Record<string, unknown> = { ...VALID[kind], owner: owner(kind, "bad"), ...override };
    for (const k of Object.keys(inputs)) if (inputs[k] === undefined) delete inputs[k];
    return inputs;
}

export const BAD_INPUTS = CASES.length + LAN_CASES.length;

describe(`reliability: ${BAD_INPUTS} bad inputs, each rejected before any command runs`, () => {
    it("accepts every valid base input (so each case fails for its own reason)", async () => {
        const cmds = await commandsDuring(async () => {
            for (const kind of Object.keys(VALID) as Kind[]) {
                const r = await handlers[kind].check!({}, inputsOf(kind, {}));
                assert.deepEqual(r.failures ?? [], [], kind);
            }
        });
        assert.deepEqual(cmds, []);
    });

    it("covers every resource with at least 40 cases", () => {
        assert.deepEqual(new Set(CASES.map(([k]) => k)), new Set(Object.keys(handlers)));
        assert.ok(CASES.length >= 40);
    });

    for (const [kind, override, property] of CASES) {
        it(`${kind} ${JSON.stringify(override)} → ${property}`, async () => {
            const provider: pulumi.dynamic.ResourceProvider = handlers[kind];
            const inputs = inputsOf(kind, override);
            let checkFailures: { property: string; reason: string }[] = [];
            let createError: Error | undefined;
            const cmds = await commandsDuring(async () => {
                checkFailures = (await provider.check!({}, inputs)).failures ?? [];
                createError = await failure(() => provider.create(inputs));
            });
            assert.deepEqual(cmds, [], "no command may run");
            assert.ok(checkFailures.some((f) => f.property === property), `check must name ${property}: ${JSON.stringify(checkFailures)}`);
            for (const f of checkFailures) assert.ok(f.reason.length > 10, `a reason that says what rule broke: ${JSON.stringify(f)}`);
            assert.ok(createError, "create must refuse input that check refuses");
        });
    }

    for (const [what, args, message] of LAN_CASES) {
        it(`BridgedNetwork: ${what}`, async () => {
            const cmds = await commandsDuring(async () => {
                assert.throws(() => planLan(args as never), message);
            });
            assert.deepEqual(cmds, []);
        });
    }
});
