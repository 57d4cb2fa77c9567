// Namespaces "slow-a" (10.73.0.1/24) and "slow-b" (10.73.0.2/24) joined by one veth pair whose
// traffic is limited to 20 Mbit/s in each direction (a tbf on each end), like a WAN link in a lab:
//   pulumi config set rate 5mbit      # any rate: bit, kbit, mbit, gbit, bps, kbps, mbps…
//   pulumi up
//   ip netns exec slow-b iperf3 -s -1 & sleep 0.5; ip netns exec slow-a iperf3 -c 10.73.0.2 -t 3
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const rate = config.get("rate") ?? "20mbit";

const a = new netns.Netns("slow-a", { name: "slow-a" });
const b = new netns.Netns("slow-b", { name: "slow-b" });
new netns.VethPair("wan", {
    name: "wan0", netns: a.name, addresses: ["10.73.0.1/24"],
    peerName: "wan0", peerNetns: b.name, peerAddresses: ["10.73.0.2/24"],
    rate,
});

export const limit = rate;
export const pingChecks = [{ from: "slow-a", to: "10.73.0.2" }];
