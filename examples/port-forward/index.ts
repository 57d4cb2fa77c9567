// A service in namespace "web" (10.72.0.2, behind a veth to the host's 10.72.0.1) reached through
// port 8080 of the host, from other machines and from the host itself, like `docker run -p 8080:80`:
//   pulumi up
//   ip netns exec web python3 -m http.server 80 --bind 10.72.0.2 &
//   curl http://10.72.0.1:8080/       # or any address of the host, from anywhere that reaches it
// The host forwards (SysctlForward) and the namespace answers through it (its default route).
import * as pulumi from "@pulumi/pulumi";
import * as netns from "pulumi-netns";

const config = new pulumi.Config();
const hostPort = config.getNumber("hostPort") ?? 8080;

const web = new netns.Netns("web", { name: "web" });
const veth = new netns.VethPair("web-veth", {
    name: "web0", addresses: ["10.72.0.1/24"],
    peerName: "eth0", peerNetns: web.name, peerAddresses: ["10.72.0.2/24"],
});
new netns.Route("web-default", { destination: "default", gateway: "10.72.0.1", netns: veth.peerNetns });
new netns.SysctlForward("forwarding", {});
const forward = new netns.PortForward("http", { protocol: "tcp", hostPort, toAddress: "10.72.0.2", toPort: 80 });

export const rules = forward.rules;
export const url = `http://10.72.0.1:${hostPort}/`;
export const pingChecks = [{ from: "web", to: "10.72.0.1" }];
