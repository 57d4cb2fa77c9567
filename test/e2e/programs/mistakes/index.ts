// One mistake per value of config `mistake`, as a user writes it (arguments built in a variable,
// where TypeScript's excess-property check cannot see a misspelled key):
//   typo:     a VethPair with `peerAdresses`
//   lan-typo: a BridgedNetwork with `namespace`
//   clash:    two VethPairs of this stack declaring the same interface name
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const mistake = new pulumi.Config().require("mistake");

if (mistake === "typo") {
    const args = { name: "mtypo0", peerName: "mtypo1", addresses: ["10.64.0.1/24"], peerAdresses: ["10.64.0.2/24"] };
    new netns.VethPair("typo", args);
}
if (mistake === "lan-typo") {
    const args = { bridge: "mbr0", cidr: "10.65.0.0/24", namespaces: [], namespace: ["ma", "mb"] };
    new netns.BridgedNetwork("lan", args);
}
if (mistake === "clash") {
    new netns.VethPair("clash-a", { name: "mclash0", peerName: "mclasha" });
    new netns.VethPair("clash-b", { name: "mclash0", peerName: "mclashb" });
}
