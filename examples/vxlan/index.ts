// One host's half of a LAN spanning two hosts: bridge "br-lab" (10.60.0.1/24) holding a VXLAN
// tunnel end "vx-lab" to the other host and a veth to namespace "lab1" (10.60.0.11/24). Run it on
// each host with the other's underlay address as `remote` (and other LAN addresses on the second):
//   pulumi config set device eth0          # the underlay link
//   pulumi config set local 192.0.2.10     # this host's address on it
//   pulumi config set remote 192.0.2.20    # the other host's
// Frames between the two bridges travel as UDP (port 4789) between local and remote.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const device = config.require("device");
const local = config.require("local");
const remote = config.require("remote");
const vni = config.getNumber("vni") ?? 4242;
const bridgeAddress = config.get("bridgeAddress") ?? "10.60.0.1/24";
const memberAddress = config.get("memberAddress") ?? "10.60.0.11/24";

const br = new netns.Bridge("br-lab", { name: "br-lab", addresses: [bridgeAddress] });
const vx = new netns.Vxlan("vx-lab", { name: "vx-lab", vni, local, remote, device, master: br.name });
const lab1 = new netns.Netns("lab1", { name: "lab1" });
// The tunnel's MTU is the underlay's less 50 (its headers): the veth gets the same, so full-size frames fit.
new netns.VethPair("lab1-veth", {
    name: "lab1-br", master: br.name, mtu: 1450,
    peerName: "eth0", peerNetns: lab1.name, peerAddresses: [memberAddress],
});

// An address on the other host's side of the LAN, to prove the tunnel (tests point it at a namespace of their own).
const probe = config.get("probe");
const bare = (cidr: string) => cidr.split("/")[0];
export const vxlanMac = vx.mac;
export const pingChecks = [{ from: "lab1", to: bare(bridgeAddress) }, ...(probe ? [{ from: "lab1", to: probe }] : [])];
