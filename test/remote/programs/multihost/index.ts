// A BridgedNetwork spanning hosts over SSH: the component's own host ("alpha", config `alpha`)
// and its peers (config `peers`: name → { connection, underlay }), each `{ connection, underlay }`;
// the members and where they live (`members`: names or { name, host }), `nat`, `gatewayHost`
// and a LAN-wide `rate` come from config.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
interface Place { connection: netns.Connection; underlay: string }
const alpha = config.requireObject<Place>("alpha");
const peers = config.requireObject<Record<string, Place>>("peers");

const lan = new netns.BridgedNetwork("mh", {
    bridge: "br-mh",
    cidr: "10.90.0.0/24",
    connection: alpha.connection,
    underlay: alpha.underlay,
    underlayDevice: "eth0",
    peers: Object.fromEntries(Object.entries(peers).map(([name, p]) => [name, { connection: p.connection, underlay: p.underlay, underlayDevice: "eth0" }])),
    namespaces: config.requireObject<(string | { name: string; host?: string })[]>("members"),
    forward: true,
    nat: config.getObject<{ outInterface: string }>("nat"),
    gatewayHost: config.get("gatewayHost"),
    rate: config.get("rate"),
});

export const addresses = lan.addresses;
export const gateway = lan.gateway;
export const vni = lan.vni;
