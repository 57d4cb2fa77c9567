// Two private networks, 10.0.1.0/24 (namespace "a") and 10.0.2.0/24 (namespace "b"), joined by a
// router namespace that forwards between them and masquerades a's traffic towards b. Nothing
// here touches the host namespace: forwarding and NAT live inside "router" (`netns` on
// SysctlForward, MasqueradeRule and ForwardRule).
import * as netns from "pulumi-netns";

const router = new netns.Netns("router", { name: "router" });
const a = new netns.Netns("a", { name: "a" });
const b = new netns.Netns("b", { name: "b" });

const linkA = new netns.VethPair("link-a", {
    name: "r-a", netns: router.name, addresses: ["10.0.1.1/24"],
    peerName: "eth0", peerNetns: a.name, peerAddresses: ["10.0.1.2/24"],
});
const linkB = new netns.VethPair("link-b", {
    name: "r-b", netns: router.name, addresses: ["10.0.2.1/24"],
    peerName: "eth0", peerNetns: b.name, peerAddresses: ["10.0.2.2/24"],
});
new netns.Route("a-default", { destination: "default", gateway: "10.0.1.1", netns: linkA.peerNetns });
new netns.Route("b-default", { destination: "default", gateway: "10.0.2.1", netns: linkB.peerNetns });

const routerNs = linkA.netns;
new netns.SysctlForward("router-forwarding", { netns: routerNs });
new netns.ForwardRule("a-to-b", { netns: routerNs, inInterface: linkA.name, outInterface: linkB.name });
new netns.ForwardRule("b-to-a-replies", { netns: routerNs, inInterface: linkB.name, outInterface: linkA.name, established: true });
new netns.MasqueradeRule("a-masquerade", { netns: routerNs, source: "10.0.1.0/24", outInterface: linkB.name });

export const pingChecks = [
    { from: "a", to: "10.0.2.2" },
    { from: "a", to: "10.0.1.1" },
];
