// A BridgedNetwork whose members and bridge name come from config, and a namespace `e2esolo` on a
// veth of its own whose host-side address and route gateway come from config: each config change
// is one kind of program edit (add or remove a member, rename a bridge, change an address or a gateway).
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();

const lan = new netns.BridgedNetwork("lan", {
    bridge: config.require("bridge"),
    cidr: "10.61.0.0/24",
    namespaces: config.requireObject<string[]>("members"),
});

const solo = new netns.Netns("solo", { name: "e2esolo" });
const veth = new netns.VethPair("solo-veth", {
    name: "e2es0", addresses: [config.require("address")],
    peerName: "eth0", peerNetns: solo.name, peerAddresses: ["10.62.0.2/24"],
});
new netns.Route("solo-route", { destination: "10.63.0.0/24", gateway: config.require("gateway"), netns: veth.peerNetns });

export const addresses = lan.addresses;
