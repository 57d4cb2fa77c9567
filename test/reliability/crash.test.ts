/**
 * The dynamic-provider host killed in the middle of an `up`: creates are in flight when the host
 * process gets SIGKILL; a fresh host then runs check and create for everything again (the engine
 * saved none of the results), and every create adopts what carries its marker. Then delete all:
 * nothing is left. Runs the compiled package (dist/) in the real host, over gRPC.
 */
import { strict as assert } from "assert";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, iptablesSave, links, netnsList, routes, sh, snapshotHost } from "../helpers/kernel";
import { Host, PROVIDER_KEY, serializedProviderOf, startHost, urn } from "../helpers/host";
import { owner } from "../helpers/provider";


describePrivileged("reliability: host process killed mid-up, then a fresh up converges", function () {
    this.timeout(60000);
    it("adopts everything the killed host made, creates the rest, and deletes all without a trace", async () => {
        for (const [t, c] of [["filter", "FORWARD"], ["nat", "POSTROUTING"]]) {
            for (const op of ["-A", "-D"]) await sh(["iptables", "-w", "-t", t, op, c, "-j", "RETURN"]);
        }
        const baseline = await snapshotHost();
        const ns = freshNetnsName("k");
        const first: [string, string, Record<string, unknown>][] = [
            ["Netns", "ns", { name: ns }],
            ["Bridge", "br", { name: "kbr0", addresses: ["10.90.255.254/16"] }],
        ];
        const rest: [string, string, Record<string, unknown>][] = [];
        for (let i = 0; i < 20; i++) rest.push(["VethPair", `v${i}`, { name: `kv${i}`, master: "kbr0", peerName: `ke${i}`, peerNetns: ns, peerAddresses: [`10.90.0.${i + 1}/16`] }]);
        for (let i = 0; i < 4; i++) rest.push(["Route", `r${i}`, { destination: `10.91.${i}.0/24`, device: "lo", netns: ns }]);
        for (let i = 0; i < 3; i++) rest.push(["MasqueradeRule", `m${i}`, { source: `10.92.${i}.0/24` }]);
        for (let i = 0; i < 3; i++) rest.push(["ForwardRule", `f${i}`, { inInterface: `kv${i}` }]);
        rest.push(["SysctlForward", "fwd", { netns: ns }]);
        const inputs = new Map<string, Record<string, unknown>>();
        const up = async (host: Host, [kind, name, args]: [string, string, Record<string, unknown>]) => {
            const u = urn(kind, name);
            const news = { ...args, owner: owner(kind, name), [PROVIDER_KEY]: await serializedProviderOf(kind) };
            const checked = await host.check(u, {}, news);
            assert.deepEqual(checked.failures, []);
            inputs.set(u, checked.inputs);
            return { u, kind, ...(await host.create(u, checked.inputs)) };
        };

        const doomed = await startHost();
        for (const r of first) await up(doomed, r);
        const inFlight = Promise.allSettled(rest.map((r) => up(doomed, r)));
        // Kill as soon as the first veths exist: some creates done, most in flight.
        for (let i = 0; i < 250 && (await links()).filter((l) => /^kv\d+$/.test(l.ifname)).length < 3; i++) await new Promise((r) => setTimeout(r, 20));
        await doomed.stop(); // SIGKILL, mid-batch
        const lost = (await inFlight).filter((r) => r.status === "rejected").length;
        const leftBehind = (await links()).filter((l) => /^kv\d+$/.test(l.ifname)).length;

        const host = await startHost();
        try {
            const made = [];
            for (const r of first) made.push(await up(host, r));
            made.push(...(await Promise.all(rest.map((r) => up(host, r)))));
            assert.equal((await links()).filter((l) => /^kv\d+$/.test(l.ifname) && l.master === "kbr0").length, 20);
            assert.equal((await links(ns)).filter((l) => /^ke\d+$/.test(l.ifname)).length, 20);
            assert.equal((await routes(ns)).filter((r) => r.protocol === "250").length, 4);
            assert.equal((await iptablesSave()).match(/pulumi-netns:/g)?.length, 6, "each rule exactly once");
            const fwd = made.find((m) => m.kind === "SysctlForward")!;
            assert.equal(fwd.outs.previousIpv4, 0, "the value found before the killed host set it");
            for (const m of made.reverse()) await host.delete(m.u, m.id, m.outs);
        } finally {
            await host.stop();
        }
        assert.deepEqual(await netnsList(), []);
        assert.equal(await snapshotHost(), baseline, "leak check");
        console.log(`      ${lost} of ${rest.length} creates were in flight when the host was killed (${leftBehind} veths already made); all converged`);
    });
});
