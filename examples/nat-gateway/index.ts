// Namespace "breezyfrost" (192.168.50.2/24) behind bridge br-nat (192.168.50.3/24)
// reaches the outside world through the host: ip_forward on, the LAN masqueraded out of the
// uplink, FORWARD rules for the LAN and its replies, and a resolver of its own, so names work
// too (where a hand-built one often ends with name lookups failing). Destroy puts ip_forward back as it was.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const outInterface = config.get("outInterface") || netns.defaultRouteDevice();
if (!outInterface) {
    throw new Error("this host has no IPv4 default route: name the uplink with `pulumi config set outInterface <device>`");
}
const namespace = config.get("namespace") || "breezyfrost";

// The namespace's nameserver: `pulumi config set nameserver 192.0.2.53`, else the host's own from
// /etc/resolv.conf, unless those are on loopback (systemd-resolved's 127.0.0.53 is not reachable from the namespace).
const nameservers = config.get("nameserver")
    ? [config.get("nameserver")!]
    : (fs.existsSync("/etc/resolv.conf") ? fs.readFileSync("/etc/resolv.conf", "utf8") : "")
          .split("\n")
          .map((l) => /^nameserver\s+(\S+)/.exec(l)?.[1])
          .filter((n): n is string => !!n && !/^(127\.|::1$)/.test(n))
          .slice(0, 3);

const lan = new netns.BridgedNetwork("nat", {
    bridge: "br-nat",
    cidr: "192.168.50.0/24",
    gateway: "192.168.50.3",
    namespaces: [{ name: namespace, address: "192.168.50.2" }],
    nat: { outInterface },
    dns: nameservers.length > 0 ? { nameservers } : undefined,
});

// An address beyond the host to prove the NAT path, and a name that resolves to one (tests point
// them at a namespace of their own, with a DNS server in it).
const probe = config.get("probe");
const probeName = config.get("probeName");

export const uplink = outInterface;
export const addresses = lan.addresses;
export const resolvers = nameservers;
export const pingChecks = [
    { from: namespace, to: "192.168.50.3" },
    ...(probe ? [{ from: namespace, to: probe }] : []),
    ...(probeName ? [{ from: namespace, to: probeName }] : []),
];
export const tryThis = `ip netns exec ${namespace} ping -c1 ${probeName ?? probe ?? "<an address or name beyond " + outInterface + ">"}`;
