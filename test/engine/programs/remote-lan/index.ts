// examples/bridge-lan on another host: the same BridgedNetwork with a `connection` (config
// `connection`, a JSON object; kept secret) and optionally `sudo`.
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
    connection: config.requireSecretObject<netns.Connection>("connection"),
    sudo: config.getBoolean("sudo"),
});

export const bridgeName = lan.bridgeName;
export const addresses = lan.addresses;
export const pingChecks = [
    { from: "ns1", to: "192.168.1.2" },
    { from: "ns2", to: "192.168.1.254" },
];
