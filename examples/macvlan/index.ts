// Two namespaces, "mvl1" and "mvl2", each with a macvlan on the host's uplink: addresses of the
// uplink's own network, reachable from the other machines on it (and from each other: bridge mode)
// without a bridge, NAT or route on the host. Give two free addresses of that network:
//   pulumi config set --path 'addresses[0]' 192.168.1.201/24
//   pulumi config set --path 'addresses[1]' 192.168.1.202/24
// A macvlan does not reach its own parent's host addresses (the kernel's macvlan rule): test from another machine.
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const parent = config.get("parent") || netns.defaultRouteDevice();
if (!parent) throw new Error("this host has no IPv4 default route: name the parent with `pulumi config set parent <device>`");
const addresses = config.requireObject<string[]>("addresses");
if (addresses.length !== 2) throw new Error("config addresses: give two free addresses of the parent's network, e.g. [\"192.168.1.201/24\", \"192.168.1.202/24\"]");

const links = ["mvl1", "mvl2"].map((name, i) => {
    const ns = new netns.Netns(name, { name });
    return new netns.Macvlan(`${name}-mv`, { name: "mv0", parent, netns: ns.name, addresses: [addresses[i]] });
});

// An address on the parent's network beyond this host, to prove the path (tests point it at a namespace of their own).
const probe = config.get("probe");
const bare = (cidr: string) => cidr.split("/")[0];
export const macs = links.map((l) => l.mac);
export const pingChecks = [{ from: "mvl1", to: bare(addresses[1]) }, ...(probe ? [{ from: "mvl1", to: probe }, { from: "mvl2", to: probe }] : [])];
