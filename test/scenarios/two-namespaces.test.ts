import { strict as assert } from "assert";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, ping, snapshotHost } from "../helpers/kernel";
import { ProviderStack } from "../helpers/provider";

describePrivileged("scenarios: two namespaces connected", () => {
    let ns1: string, ns2: string, before: string, stack: ProviderStack;
    beforeEach(async () => {
        ns1 = freshNetnsName();
        ns2 = freshNetnsName();
        before = await snapshotHost();
        stack = new ProviderStack();
        await stack.add("Netns", { name: ns1 });
        await stack.add("Netns", { name: ns2 });
    });
    afterEach(async () => {
        await stack.destroy();
        assert.equal(await snapshotHost(), before, "destroy returns the host to exactly its previous state");
    });

    it("by a direct veth pair", async () => {
        await stack.add("VethPair", {
            name: "veth1", netns: ns1, addresses: ["192.168.1.1/24"],
            peerName: "veth2", peerNetns: ns2, peerAddresses: ["192.168.1.2/24"],
        });
        await stack.add("Route", { destination: "default", gateway: "192.168.1.2", netns: ns1 });
        await stack.add("Route", { destination: "default", gateway: "192.168.1.1", netns: ns2 });
        assert.ok(await ping(ns1, "192.168.1.2"));
        assert.ok(await ping(ns2, "192.168.1.1"));
    });

    it("by a bridge with a gateway address", async () => {
        const br = `br${ns1.slice(1)}`;
        await stack.add("Bridge", { name: br, addresses: ["192.168.1.254/24"] });
        for (const [i, ns] of [ns1, ns2].entries()) {
            await stack.add("VethPair", {
                name: `veth${i + 1}`, netns: ns, addresses: [`192.168.1.${i + 1}/24`],
                peerName: `${ns}-br`, peerMaster: br,
            });
            await stack.add("Route", { destination: "default", gateway: "192.168.1.254", netns: ns });
        }
        assert.ok(await ping(ns1, "192.168.1.2"), "ns1 → ns2 across the bridge");
        assert.ok(await ping(ns2, "192.168.1.254"), "ns2 → gateway");
    });
});

describePrivileged("scenarios: namespace blue behind br0", () => {
    it("reaches the bridge address through the default route", async () => {
        const before = await snapshotHost();
        const stack = new ProviderStack();
        const blue = freshNetnsName("blue");
        const br = `br${blue.slice(4)}`;
        const host = `v${blue.slice(4)}`;
        await stack.add("Netns", { name: blue });
        await stack.add("Bridge", { name: br, addresses: ["10.1.1.3/16"] });
        await stack.add("VethPair", {
            name: host, addresses: ["10.1.1.2/16"], master: br,
            peerName: "veth1", peerNetns: blue, peerAddresses: ["10.1.1.1/16"],
        });
        await stack.add("Route", { destination: "default", gateway: "10.1.1.3", netns: blue });
        assert.ok(await ping(blue, "10.1.1.3"));
        await stack.destroy();
        assert.equal(await snapshotHost(), before);
    });
});
