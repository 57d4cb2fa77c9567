// A lab LAN applied by a pipeline (pipeline.yml): the namespaces in config `members` (default web
// and db) on bridge br-lab (10.88.0.0/24, gateway 10.88.0.1), forwarding from the bridge allowed.
// On another host: config `connection` (secret) and `sudo`, as in examples/bridge-lan.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const members = config.getObject<string[]>("members") ?? ["web", "db"];

const lab = new netns.BridgedNetwork("lab", {
    bridge: "br-lab",
    cidr: "10.88.0.0/24",
    namespaces: members,
    forward: true,
    connection: config.getSecretObject<netns.Connection>("connection"),
    sudo: config.getBoolean("sudo"),
});

export const addresses = lab.addresses;
export const pingChecks = members.map((m) => ({ from: m, to: "10.88.0.1" }));
