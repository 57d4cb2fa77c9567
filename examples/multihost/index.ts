// One LAN (10.88.0.0/24) on two hosts: this one and a peer reached over SSH. A BridgedNetwork makes
// bridge "br-mh" on each, one VXLAN device on each bridge whose flood list is the other host's
// underlay address, and the namespaces: "here1" and "here2" on this host, "there1" and "there2" on
// the peer, with one address plan and the gateway (10.88.0.1, and the FORWARD rule) on this host.
//   pulumi config set underlay 192.0.2.10          # this host's address on the network both hosts share
//   pulumi config set peerUnderlay 192.0.2.20      # the peer's
//   pulumi config set --secret peerConnection '{"host":"192.0.2.20","user":"root","privateKey":"…","hostKey":"ssh-ed25519 …"}'
// Optional: underlayDevice / peerUnderlayDevice (the links the tunnel goes out of; default: by route),
// peerSudo true (a non-root user with a NOPASSWD sudoers rule on the peer).
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const here = ["here1", "here2"];
const there = ["there1", "there2"];

const lan = new netns.BridgedNetwork("mh", {
    bridge: "br-mh",
    cidr: "10.88.0.0/24",
    namespaces: [...here, ...there.map((name) => ({ name, host: "peer" }))],
    forward: true,
    underlay: config.require("underlay"),
    underlayDevice: config.get("underlayDevice"),
    peers: {
        peer: {
            connection: config.requireSecretObject<netns.Connection>("peerConnection"),
            sudo: config.getBoolean("peerSudo"),
            underlay: config.require("peerUnderlay"),
            underlayDevice: config.get("peerUnderlayDevice"),
        },
    },
});

export const addresses = lan.addresses;
export const gateway = lan.gateway;
export const vni = lan.vni;
export const vxlanName = lan.vxlan!.name;
/** From each namespace to every other member and to the gateway: `pingChecks` run on this host, `peerPingChecks` on the peer. */
const checks = (from: string[]) =>
    pulumi.all([lan.addresses, lan.gateway]).apply(([a, gw]) => from.flatMap((f) => [...Object.entries(a).filter(([n]) => n !== f).map(([, to]) => to), gw].map((to) => ({ from: f, to }))));
export const pingChecks = checks(here);
export const peerPingChecks = checks(there);
