import { strict as assert } from "assert";
import { describePrivileged } from "../helpers/sandbox";
import { addrs, freshNetnsName, link, netnsList, routes, sh } from "../helpers/kernel";
import { Host, PROVIDER_KEY, serializedProviderOf, startHost, UNKNOWN, urn } from "../helpers/host";
import { owner } from "../helpers/provider";

/** The compiled package, as a Pulumi program would load it (the host runs compiled code only). */

/** Inputs as the engine sends them: the serialized provider under `__provider`. */
async function withProvider(kind: string, props: Record<string, unknown>) {
    return { ...props, [PROVIDER_KEY]: await serializedProviderOf(kind) };
}

describePrivileged("protocol: Netns, VethPair, Bridge and Route through the real dynamic-provider host", function () {
    let host: Host;
    before(async () => {
        host = await startHost();
    });
    after(() => host?.stop());

    it("gives each resource a provider that captures no code, only its kind and entry point: a module of a few hundred bytes", async () => {
        const text = await serializedProviderOf("Netns");
        assert.ok(text.length < 400, `the provider is ${text.length} bytes`);
        assert.match(text, /handlers\["Netns"\]/);
        assert.match(text, /require\("pulumi-netns\/handlers"\)/, "falls back to the installed package when the checkout moved");
        assert.doesNotMatch(text, /zod|child_process/);
    });

    it("runs check, diff, create, read, update and delete for every link resource", async () => {
        const ns = freshNetnsName();
        const peerNs = freshNetnsName();
        const steps: [string, Record<string, unknown>, Record<string, unknown>, (outs: any) => Promise<void>][] = [
            ["Netns", { name: ns }, { loopbackUp: false }, async () => assert.ok((await netnsList()).includes(ns))],
            ["Netns", { name: peerNs }, { loopbackUp: false }, async () => assert.ok((await netnsList()).includes(peerNs))],
            ["Bridge", { name: "br0", netns: ns, addresses: ["10.7.0.1/24"] }, { addresses: ["10.7.0.1/24", "fd07::1/64"] },
                async (o) => assert.equal((await link("br0", ns))?.address, o.mac)],
            ["VethPair", { name: "h0", netns: ns, master: "br0", peerName: "eth0", peerNetns: peerNs, peerAddresses: ["10.7.0.2/24"], mtu: 1400 },
                { mtu: 1300 }, async (o) => assert.equal((await link("eth0", peerNs))?.address, o.peerMac)],
            ["Route", { destination: "default", gateway: "10.7.0.1", netns: peerNs, metric: 10 }, { gateway: "10.7.0.254" },
                async () => assert.ok((await routes(peerNs)).some((r) => r.dst === "default"))],
        ];
        const made: { kind: string; id: string; outs: Record<string, unknown> }[] = [];
        for (const [kind, args, change, verify] of steps) {
            const u = urn(kind, `${kind}-${made.length}`);
            const news = await withProvider(kind, { ...args, owner: owner(kind, u) });

            // Preview: values not known yet pass check.
            const preview = await host.check(u, {}, { ...news, [Object.keys(args)[0]]: UNKNOWN });
            assert.deepEqual(preview.failures, [], `${kind}: unknowns must pass check`);

            const { inputs, failures } = await host.check(u, {}, news);
            assert.deepEqual(failures, [], kind);
            const { id, outs } = await host.create(u, inputs);
            assert.ok(id, `${kind}: create returns an id`);
            await verify(outs);

            const read = await host.read(u, id, outs);
            assert.equal(read.id, id);
            assert.equal((await host.diff(u, id, read.props, inputs)).changes, "none", `${kind}: no drift after create`);

            const changed = (await host.check(u, outs, { ...news, ...change })).inputs;
            const diff = await host.diff(u, id, outs, changed);
            assert.equal(diff.changes, "some", `${kind}: ${JSON.stringify(change)} is a change`);
            assert.deepEqual(diff.replaces, [], `${kind}: ${JSON.stringify(change)} is an in-place update`);
            const updated = await host.update(u, id, outs, changed);
            made.push({ kind, id, outs: updated.outs });
        }
        assert.deepEqual(await addrs("br0", ns), ["10.7.0.1/24", "fd07::1/64"]);
        assert.equal((await link("h0", ns))?.mtu, 1300);
        assert.equal((await link("lo", ns))?.flags.includes("UP"), false);
        assert.ok((await routes(peerNs)).some((r) => r.dst === "default" && r.gateway === "10.7.0.254"));

        for (const { kind, id, outs } of made.reverse()) {
            await host.delete(urn(kind, "x"), id, outs);
            await host.delete(urn(kind, "x"), id, outs); // idempotent
            assert.equal((await host.read(urn(kind, "x"), id, outs)).id, "", `${kind}: gone after delete`);
        }
        assert.ok(!(await netnsList()).includes(ns));
    });

    it("reports bad input as check failures and errors with the failing command", async () => {
        const u = urn("VethPair", "bad");
        const { failures } = await host.check(u, {}, await withProvider("VethPair", { name: "$(reboot)", peerName: "x".repeat(16), owner: owner("VethPair", u) }));
        assert.deepEqual(failures.map((f) => f.property).sort(), ["name", "peerName"]);

        const ns = freshNetnsName();
        await sh(["ip", "netns", "add", ns]);
        try {
            const inputs = (await host.check(u, {}, await withProvider("Bridge", { name: "br1", netns: ns, addresses: ["10.8.0.1/24"], owner: owner("Bridge", u) }))).inputs;
            await sh(["ip", "-n", ns, "link", "add", "name", "br1", "type", "bridge"]);
            await assert.rejects(host.create(u, inputs), /link "br1" already exists in namespace/);
            await sh(["ip", "-n", ns, "link", "del", "br1"]);
            const route = (await host.check(u, {}, await withProvider("Route", { destination: "10.9.0.0/16", gateway: "10.99.0.1", netns: ns, owner: owner("Route", u) }))).inputs;
            await assert.rejects(host.create(u, route), /command `ip (-n \S+ )?-batch -` \(reading: \["(netns exec \S+ ip )?route add 10\.9\.0\.0\/16 [^"]*"\]\) failed with exit code 1: .*Nexthop has invalid gateway/);
        } finally {
            await sh(["ip", "netns", "del", ns]);
        }
    });
});
