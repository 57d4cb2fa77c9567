// A BridgedNetwork of two namespaces (their veths and routes deletedWith them), a namespace on its
// own, and a FORWARD rule whose input interface comes from config (a change of it is a replacement).
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const lan = new netns.BridgedNetwork("lan", { bridge: "clbr0", cidr: "10.64.0.0/24", namespaces: ["ca", "cb"] });
const alone = new netns.Netns("alone", { name: "clalone" });
new netns.ForwardRule("fwd", { inInterface: config.get("fwdIn") ?? "clbr0" });

/** Computed by create: unknown in the preview of a new stack. */
export const bridgeMac = lan.bridge.mac;
/** An input passed through: known in that preview. */
export const aloneName = alone.name;
