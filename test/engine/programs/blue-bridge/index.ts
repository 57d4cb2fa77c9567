// Namespace "blue", a veth pair whose host end sits on bridge ebr0 (10.1.1.3/16),
// blue's end 10.1.1.1/16, and a default route from blue via the bridge.
import * as netns from "pulumi-netns";

const blue = new netns.Netns("blue", { name: "blue" });
const br = new netns.Bridge("ebr0", { name: "ebr0", addresses: ["10.1.1.3/16"] });
const veth = new netns.VethPair("veth", {
    name: "eveth0",
    master: br.name,
    peerName: "eth0",
    peerNetns: blue.name,
    peerAddresses: ["10.1.1.1/16"],
});
new netns.Route("blue-default", {
    destination: "default",
    gateway: "10.1.1.3",
    device: veth.peerName,
    netns: veth.peerNetns,
});

export const namespace = blue.name;
export const bridgeMac = br.mac;
export const pingChecks = [{ from: "blue", to: "10.1.1.3" }];
