// One resource of every kind, wired through outputs as a user writes it: a namespace behind a
// bridge, a macvlan on a root-namespace veth standing in for an uplink, a VXLAN device inside the
// namespace over its veth, NAT, forwarding, a port forward, a chain policy, and a user-defined chain with
// a rule in it and a jump to it. Config drives what a replacement
// test changes: `trigger` (every resource's replacementTrigger), `replaceOnChanges` (every
// resource's), and `edit` (a value of each resource that it updates in place).
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const trigger = config.get("trigger");
const replaceOnChanges = config.getObject<string[]>("replaceOnChanges");
const edit = config.getBoolean("edit") ?? false;
const opts: pulumi.CustomResourceOptions = {
    ...(trigger === undefined ? {} : { replacementTrigger: trigger }),
    ...(replaceOnChanges === undefined ? {} : { replaceOnChanges }),
};

const ns = new netns.Netns("ns", { name: "rpa", hosts: { "10.64.0.1": [edit ? "gw2" : "gw"] } }, opts);
const br = new netns.Bridge("br", { name: "rpbr0", addresses: [edit ? "10.64.0.1/24" : "10.64.0.1/24", ...(edit ? ["10.64.1.1/24"] : [])] }, opts);
const veth = new netns.VethPair("veth", {
    name: "rpv0", master: br.name,
    peerName: "eth0", peerNetns: ns.name, peerAddresses: ["10.64.0.2/24", ...(edit ? ["10.64.0.3/24"] : [])],
}, opts);
const route = new netns.Route("route", { destination: "default", gateway: edit ? "10.64.0.1" : "10.64.0.1", netns: veth.peerNetns, ...(edit ? { source: "10.64.0.2" } : {}) }, opts);
const uplink = new netns.VethPair("uplink", { name: "rpu0", peerName: "rpu1", addresses: ["10.65.0.1/24"] }, opts);
const macvlan = new netns.Macvlan("macvlan", { name: "rpmv0", parent: uplink.name, netns: ns.name, addresses: ["10.65.0.2/24", ...(edit ? ["10.65.0.3/24"] : [])] }, opts);
const vxlan = new netns.Vxlan("vxlan", {
    name: "rpvx0", vni: 4242, netns: veth.peerNetns, device: veth.peerName,
    local: "10.64.0.2", remote: "10.64.0.1", addresses: ["10.66.0.2/24", ...(edit ? ["10.66.0.3/24"] : [])],
}, opts);
const masquerade = new netns.MasqueradeRule("masquerade", { source: "10.64.0.0/24", outInterface: uplink.name }, opts);
const forward = new netns.ForwardRule("forward", { inInterface: br.name }, opts);
const portForward = new netns.PortForward("portforward", { protocol: "tcp", hostPort: 8064, toAddress: "10.64.0.2" }, opts);
const innerNat = new netns.MasqueradeRule("inner-masquerade", { source: "10.66.0.0/24", netns: ns.name }, opts);
const sysctl = new netns.SysctlForward("sysctl", { netns: ns.name, ipv6: edit }, opts);
const policy = new netns.ChainPolicy("policy", { chain: "FORWARD", policy: "DROP", netns: ns.name }, opts);
const chain = new netns.IptablesChain("chain", { name: "RP-CHAIN", netns: ns.name }, opts);
const chainRule = new netns.IptablesRule("chain-rule", { chain: chain.name, source: "192.0.2.0/24", jump: "RETURN", netns: chain.netns }, opts);
const jump = new netns.IptablesRule("jump", { chain: "INPUT", protocol: "tcp", destinationPort: 22, jump: chain.name, netns: chain.netns }, opts);
// A namespace given by its name, not an output: the engine cannot tell it lives there; replaceWith says so.
const literal = new netns.ForwardRule("literal-forward", { netns: "rpa", inInterface: "eth0" }, { ...opts, dependsOn: [ns], replaceWith: [ns] });

export const names = {
    ns: ns.name, br: br.name, veth: veth.name, route: route.destination, uplink: uplink.name, macvlan: macvlan.name,
    vxlan: vxlan.name, masquerade: masquerade.rule, forward: forward.rule, portForward: portForward.rules,
    innerNat: innerNat.rule, sysctl: sysctl.netns, literal: literal.rule, policy: policy.previous, chain: chain.name, chainRule: chainRule.rule, jump: jump.rule,
};
