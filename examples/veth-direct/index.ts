// ns1 and ns2 joined directly by a veth pair, like a cable
// between two computers, each with a default route to the other.
import * as netns from "pulumi-netns";

const ns1 = new netns.Netns("ns1", { name: "ns1" });
const ns2 = new netns.Netns("ns2", { name: "ns2" });
const cable = new netns.VethPair("cable", {
    name: "veth1",
    netns: ns1.name,
    addresses: ["192.168.1.1/24"],
    peerName: "veth2",
    peerNetns: ns2.name,
    peerAddresses: ["192.168.1.2/24"],
});
new netns.Route("ns1-default", { destination: "default", gateway: "192.168.1.2", netns: cable.netns });
new netns.Route("ns2-default", { destination: "default", gateway: "192.168.1.1", netns: cable.peerNetns });

export const pingChecks = [
    { from: "ns1", to: "192.168.1.2" },
    { from: "ns2", to: "192.168.1.1" },
];
