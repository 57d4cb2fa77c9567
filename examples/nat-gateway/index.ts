// Seed 001: namespace "breezyfrost" (192.168.50.2/24) behind bridge br-nat (192.168.50.3/24)
// reaches the outside world through the host: ip_forward on, the LAN masqueraded out of the
// uplink, FORWARD rules for the LAN and its replies. Destroy puts ip_forward back as it was.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const outInterface = config.get("outInterface") || netns.defaultRouteDevice();
if (!outInterface) {
    throw new Error("this host has no IPv4 default route: name the uplink with `pulumi config set outInterface <device>`");
}
const namespace = config.get("namespace") || "breezyfrost";

const lan = new netns.BridgedNetwork("nat", {
    bridge: "br-nat",
    cidr: "192.168.50.0/24",
    gateway: "192.168.50.3",
    namespaces: [{ name: namespace, address: "192.168.50.2" }],
    nat: { outInterface },
});

// An address beyond the host to prove the NAT path (tests point it at a namespace of their own).
const probe = config.get("probe");

export const uplink = outInterface;
export const addresses = lan.addresses;
export const pingChecks = [{ from: namespace, to: "192.168.50.3" }, ...(probe ? [{ from: namespace, to: probe }] : [])];
export const tryThis = `ip netns exec ${namespace} ping -c1 ${probe ?? "<an address beyond " + outInterface + ">"}`;
