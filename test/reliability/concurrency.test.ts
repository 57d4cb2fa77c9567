/**
 * Concurrency: 100 resources created at once, as the engine does for independent resources
 * (iptables lock, a shared bridge, a shared namespace), then deleted at once; and two resources
 * claiming the same interface name, of which exactly one wins and the other fails naming it.
 */
import { strict as assert } from "assert";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, iptablesSave, links, netnsList, routes, sh, snapshotHost } from "../helpers/kernel";
import { destroy, Made, make, owner } from "../helpers/provider";

export const PARALLEL = { veths: 40, routes: 20, masquerades: 20, forwards: 20 };
export const PARALLEL_TOTAL = Object.values(PARALLEL).reduce((a, b) => a + b, 0);

describePrivileged("reliability: concurrency", function () {
    let baseline: string;
    before(async () => {
        for (const [t, c] of [["filter", "FORWARD"], ["nat", "POSTROUTING"]]) {
            for (const op of ["-A", "-D"]) await sh(["iptables", "-w", "-t", t, op, c, "-j", "RETURN"]);
        }
    });
    beforeEach(async () => {
        baseline = await snapshotHost();
    });
    afterEach(async function () {
        if (this.currentTest?.state === "passed") assert.equal(await snapshotHost(), baseline, "leak check");
    });

    it(`creates ${PARALLEL_TOTAL} resources in parallel on a shared bridge and namespace, then deletes them in parallel`, async () => {
        const ns = await make("Netns", "shared", { name: freshNetnsName("p") });
        const n = ns.outs.name;
        const br = await make("Bridge", "shared", { name: "pbr0", addresses: ["10.20.255.254/16"] });
        const jobs: Promise<Made>[] = [];
        for (let i = 0; i < PARALLEL.veths; i++) {
            jobs.push(make("VethPair", `v${i}`, { name: `pv${i}`, master: "pbr0", peerName: `pe${i}`, peerNetns: n, peerAddresses: [`10.20.0.${i + 1}/16`] }));
        }
        for (let i = 0; i < PARALLEL.routes; i++) jobs.push(make("Route", `r${i}`, { destination: `10.30.${i}.0/24`, device: "lo", netns: n }));
        for (let i = 0; i < PARALLEL.masquerades; i++) jobs.push(make("MasqueradeRule", `m${i}`, { source: `10.40.${i}.0/24`, outInterface: "pbr0" }));
        for (let i = 0; i < PARALLEL.forwards; i++) jobs.push(make("ForwardRule", `f${i}`, { inInterface: `pv${i}` }));
        const started = Date.now();
        const results = await Promise.allSettled(jobs);
        const failed = results.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason));
        assert.deepEqual(failed, [], "no create may fail");
        const made = results.map((r) => (r as PromiseFulfilledResult<Made>).value);
        const took = Date.now() - started;

        const root = await links();
        for (let i = 0; i < PARALLEL.veths; i++) {
            const l = root.find((x) => x.ifname === `pv${i}`);
            assert.equal(l?.master, "pbr0", `pv${i} on the bridge`);
            assert.equal(l?.ifalias, owner("VethPair", `v${i}`));
        }
        assert.equal((await links(n)).filter((l) => l.ifname.startsWith("pe")).length, PARALLEL.veths);
        assert.equal((await routes(n)).filter((r) => r.protocol === "250").length, PARALLEL.routes);
        const rules = await iptablesSave();
        assert.equal(rules.match(/-j MASQUERADE/g)?.length, PARALLEL.masquerades);
        assert.equal(rules.match(/-A FORWARD -i pv\d+ -m comment/g)?.length, PARALLEL.forwards);

        const gone = await Promise.allSettled(made.map(destroy));
        assert.deepEqual(gone.filter((r) => r.status === "rejected").map((r) => String((r as PromiseRejectedResult).reason)), []);
        await destroy(br);
        await destroy(ns);
        assert.deepEqual(await netnsList(), []);
        console.log(`      ${PARALLEL_TOTAL} resources created in parallel in ${took} ms`);
    });

    for (const kind of ["VethPair", "Bridge"] as const) {
        it(`two ${kind}s claiming the same interface name at once: one wins, the other fails naming it and leaves the winner alone`, async () => {
            for (let round = 0; round < 5; round++) {
                const args = (who: string) =>
                    kind === "Bridge" ? { name: "dup0", addresses: [`10.50.${who === "a" ? 1 : 2}.1/24`] } : { name: "dup0", peerName: `dup-${who}` };
                const results = await Promise.allSettled([make(kind, "a", args("a")), make(kind, "b", args("b"))]);
                const won = results.filter((r) => r.status === "fulfilled") as PromiseFulfilledResult<Made>[];
                const lost = results.filter((r) => r.status === "rejected") as PromiseRejectedResult[];
                assert.equal(won.length, 1, `round ${round}: exactly one wins (${lost.map((r) => String(r.reason)).join("; ")})`);
                const winner = won[0].value;
                // The loser names the winning resource (not just its token), without suggesting a delete that would break it;
                // or, when it looks before the winner has set its alias, says there is no marker yet.
                const reason = String(lost[0].reason);
                assert.match(reason, new RegExp(`link "dup0" already exists in the root namespace and (belongs to ${kind} "${winner === won[0].value && results[0].status === "fulfilled" ? "a" : "b"}" of this stack: two resources declare the same object; give one of them another name|is not owned by this resource \\(no pulumi-netns marker yet)`));
                if (/belongs to/.test(reason)) assert.doesNotMatch(reason, /link delete/);
                const l = (await links()).filter((x) => x.ifname.startsWith("dup"));
                assert.equal(l.find((x) => x.ifname === "dup0")?.ifalias, winner.outs.owner, "the winner's link is intact and still its own");
                assert.equal(l.length, kind === "VethPair" ? 2 : 1, "the loser left nothing behind");
                await destroy(winner);
            }
        });
    }
});
