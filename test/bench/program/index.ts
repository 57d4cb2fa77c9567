// The benchmark topology through the package: N namespaces, each with lo up, a veth to one shared
// bridge, an address and a default route, plus forwarding and masquerading out of `up0`.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const n = Number(new pulumi.Config().require("n"));
const lan = new netns.BridgedNetwork("bench", {
    bridge: "brb",
    cidr: "10.200.0.0/16",
    namespaces: Array.from({ length: n }, (_, i) => `b${i}`),
    nat: { outInterface: "up0" },
});
export const addresses = lan.addresses;
