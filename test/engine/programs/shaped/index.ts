// A program whose shape comes from config, to test how program changes become steps:
//   addresses       JSON array, blue-side addresses of the veth (default ["10.2.1.1/16"])
//   bridgeName      the bridge's interface name (default "sbr0"); the gateway is 10.2.1.3/16
//   extraNamespace  if set, a second namespace on the bridge with 10.2.1.2/16
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const cfg = new pulumi.Config();
const addresses = cfg.getObject<string[]>("addresses") ?? ["10.2.1.1/16"];
const bridgeName = cfg.get("bridgeName") ?? "sbr0";
const extra = cfg.get("extraNamespace");

const blue = new netns.Netns("sblue", { name: "sblue" });
const br = new netns.Bridge("bridge", { name: bridgeName, addresses: ["10.2.1.3/16"] });
const veth = new netns.VethPair("veth", {
    name: "sveth0", master: br.name, peerName: "eth0", peerNetns: blue.name, peerAddresses: addresses,
});
new netns.Route("sblue-default", { destination: "default", gateway: "10.2.1.3", netns: veth.peerNetns });

const pingChecks = [{ from: "sblue", to: "10.2.1.3" }];
if (extra) {
    const x = new netns.Netns("extra", { name: extra });
    new netns.VethPair("extra-veth", {
        name: "sveth1", master: br.name, peerName: "eth0", peerNetns: x.name, peerAddresses: ["10.2.1.2/16"],
    });
    pingChecks.push({ from: extra, to: "10.2.1.3" }, { from: extra, to: addresses[0].split("/")[0] });
}

export const bridge = br.name;
export { pingChecks };
