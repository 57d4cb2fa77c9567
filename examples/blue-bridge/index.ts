// Namespace "blue", a veth pair whose host end sits on br0, addresses, and a
// default route from blue via the bridge.
import * as netns from "pulumi-netns";

const blue = new netns.Netns("blue", { name: "blue" });
const br0 = new netns.Bridge("br0", { name: "br0", addresses: ["10.1.1.3/16"] });
const veth = new netns.VethPair("veth", {
    name: "veth0",
    addresses: ["10.1.1.2/16"],
    master: br0.name,
    peerName: "veth1",
    peerNetns: blue.name,
    peerAddresses: ["10.1.1.1/16"],
});
new netns.Route("blue-default", { destination: "default", gateway: "10.1.1.3", netns: veth.peerNetns });

export const namespace = blue.name;
export const bridgeMac = br0.mac;
export const pingChecks = [{ from: "blue", to: "10.1.1.3" }];
