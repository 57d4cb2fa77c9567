// ns1 and ns2 on bridge br0 (gateway 192.168.1.254), each with a
// default route via the bridge, and `iptables -A FORWARD -i br0 -j ACCEPT` for hosts whose
// FORWARD policy is DROP (Docker's). Add names to `namespaces` to grow the LAN. To build it on
// another host: `pulumi config set --secret connection '{"host":"…","user":"…","privateKey":"…","hostKey":"…"}'`
// (and `pulumi config set sudo true` for a non-root user).
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();

const lan = new netns.BridgedNetwork("lan", {
    bridge: "br0",
    cidr: "192.168.1.0/24",
    gateway: "192.168.1.254",
    namespaces: [
        { name: "ns1", address: "192.168.1.1" },
        { name: "ns2", address: "192.168.1.2" },
    ],
    forward: true,
    connection: config.getSecretObject<netns.Connection>("connection"),
    sudo: config.getBoolean("sudo"),
});

export const bridgeName = lan.bridgeName;
export const addresses = lan.addresses;
export const pingChecks = [
    { from: "ns1", to: "192.168.1.2" },
    { from: "ns2", to: "192.168.1.254" },
];
