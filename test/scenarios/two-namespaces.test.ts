import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { bridgeProvider } from "../../provider/resources/bridge";
import { netnsProvider } from "../../provider/resources/netns";
import { routeProvider } from "../../provider/resources/route";
import { vethPairProvider } from "../../provider/resources/veth";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, ping, snapshotHost } from "../helpers/kernel";
import { checked, owner } from "../helpers/provider";

/** Creates resources in order through their providers and deletes them in reverse, like `up` and `destroy`. */
class Stack {
    private made: { p: pulumi.dynamic.ResourceProvider; id: string; outs: any }[] = [];
    async add(p: pulumi.dynamic.ResourceProvider, type: string, args: Record<string, unknown>) {
        const { id, outs } = await p.create(await checked(p, { ...args, owner: owner(type, JSON.stringify(args)) }));
        this.made.push({ p, id, outs });
        return outs;
    }
    async destroy() {
        for (const { p, id, outs } of this.made.reverse()) await p.delete!(id, outs);
        this.made = [];
    }
}

describePrivileged("scenarios: two namespaces connected", () => {
    let ns1: string, ns2: string, before: string, stack: Stack;
    beforeEach(async () => {
        ns1 = freshNetnsName();
        ns2 = freshNetnsName();
        before = await snapshotHost();
        stack = new Stack();
        await stack.add(netnsProvider, "Netns", { name: ns1 });
        await stack.add(netnsProvider, "Netns", { name: ns2 });
    });
    afterEach(async () => {
        await stack.destroy();
        assert.equal(await snapshotHost(), before, "destroy returns the host to exactly its previous state");
    });

    it("by a direct veth pair", async () => {
        await stack.add(vethPairProvider, "VethPair", {
            name: "veth1", netns: ns1, addresses: ["192.168.1.1/24"],
            peerName: "veth2", peerNetns: ns2, peerAddresses: ["192.168.1.2/24"],
        });
        await stack.add(routeProvider, "Route", { destination: "default", gateway: "192.168.1.2", netns: ns1 });
        await stack.add(routeProvider, "Route", { destination: "default", gateway: "192.168.1.1", netns: ns2 });
        assert.ok(await ping(ns1, "192.168.1.2"));
        assert.ok(await ping(ns2, "192.168.1.1"));
    });

    it("by a bridge with a gateway address", async () => {
        const br = `br${ns1.slice(1)}`;
        await stack.add(bridgeProvider, "Bridge", { name: br, addresses: ["192.168.1.254/24"] });
        for (const [i, ns] of [ns1, ns2].entries()) {
            await stack.add(vethPairProvider, "VethPair", {
                name: `veth${i + 1}`, netns: ns, addresses: [`192.168.1.${i + 1}/24`],
                peerName: `${ns}-br`, peerMaster: br,
            });
            await stack.add(routeProvider, "Route", { destination: "default", gateway: "192.168.1.254", netns: ns });
        }
        assert.ok(await ping(ns1, "192.168.1.2"), "ns1 → ns2 across the bridge");
        assert.ok(await ping(ns2, "192.168.1.254"), "ns2 → gateway");
    });
});

describePrivileged("scenarios: namespace blue behind br0", () => {
    it("reaches the bridge address through the default route", async () => {
        const before = await snapshotHost();
        const stack = new Stack();
        const blue = freshNetnsName("blue");
        const br = `br${blue.slice(4)}`;
        const host = `v${blue.slice(4)}`;
        await stack.add(netnsProvider, "Netns", { name: blue });
        await stack.add(bridgeProvider, "Bridge", { name: br, addresses: ["10.1.1.3/16"] });
        await stack.add(vethPairProvider, "VethPair", {
            name: host, addresses: ["10.1.1.2/16"], master: br,
            peerName: "veth1", peerNetns: blue, peerAddresses: ["10.1.1.1/16"],
        });
        await stack.add(routeProvider, "Route", { destination: "default", gateway: "10.1.1.3", netns: blue });
        assert.ok(await ping(blue, "10.1.1.3"));
        await stack.destroy();
        assert.equal(await snapshotHost(), before);
    });
});
