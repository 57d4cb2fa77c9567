// The benchmark topology through the package: N namespaces, each with lo up, a veth to one shared
// bridge, an address and a default route, plus forwarding and masquerading out of `up0`. With
// config `connection` (a JSON object, secret), all of it on that host over SSH.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const lan = new netns.BridgedNetwork("bench", {
    bridge: "brb",
    cidr: "10.200.0.0/16",
    namespaces: Array.from({ length: Number(config.require("n")) }, (_, i) => `b${i}`),
    nat: { outInterface: "up0" },
    connection: config.getSecretObject<netns.Connection>("connection"),
});
export const addresses = lan.addresses;
