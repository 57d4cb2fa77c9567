// What a GitOps service applies: namespace aulab, a veth pair into it, its default route through
// the host end, and MASQUERADE of its network. Exported as a function, the body of an Automation
// API inline program (test/e2e/automation.test.ts); index.ts runs the same as a project.
import * as netns from "pulumi-netns";

export function lab() {
    const ns = new netns.Netns("lab", { name: "aulab" });
    const veth = new netns.VethPair("lab-veth", {
        name: "au0", addresses: ["10.77.0.1/24"],
        peerName: "au1", peerNetns: ns.name, peerAddresses: ["10.77.0.2/24"],
    });
    new netns.Route("lab-default", { destination: "default", gateway: "10.77.0.1", netns: veth.peerNetns });
    const nat = new netns.MasqueradeRule("lab-nat", { source: "10.77.0.0/24" });
    return { namespace: ns.name, hostEnd: veth.name, rule: nat.rule };
}
