import { strict as assert } from "assert";
import { ipBatch, ipShow } from "../../provider/linux/batch";
import { CommandError, failedBatchLine, observeCommands } from "../../provider/linux/exec";
import { localTarget } from "../../provider/linux/target";
import { link, links, withFreshNetns } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";

/** Runs fn, counting the processes it starts and collecting what they read. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; argvs: string[][] }> {
    const argvs: string[][] = [];
    observeCommands((argv) => argvs.push(argv));
    try {
        return { result: await fn(), argvs };
    } finally {
        observeCommands();
    }
}

describePrivileged("linux/batch: operations at once share one ip -batch", () => {
    const a = withFreshNetns("ba");
    const b = withFreshNetns("bb");

    it("runs concurrent operations in several namespaces in one process, each whole", async () => {
        const { argvs } = await counted(() =>
            Promise.all([a.name, b.name, undefined].flatMap((ns, k) => [
                ipBatch(localTarget, ns, [`link add name bt${k}x type veth peer name bt${k}y`, `link set dev bt${k}x alias mine${k} up`]),
            ])),
        );
        assert.deepEqual(argvs, [["ip", "-batch", "-"]], "one process for the three operations");
        for (const [k, ns] of [a.name, b.name, undefined].entries()) {
            const l = await link(`bt${k}x`, ns);
            assert.equal(l?.ifalias, `mine${k}`);
            assert.ok(l?.flags.includes("UP"), JSON.stringify(l));
        }
        await ipBatch(localTarget, undefined, ["link delete dev bt2x"]);
    });

    it("fails only the operation owning the failed line: those before ran, its later lines did not, those after run next", async () => {
        const { result, argvs } = await counted(() =>
            Promise.allSettled([
                ipBatch(localTarget, a.name, ["link add name f1 type veth peer name f1p"]),
                // Line 2 fails: line 3 must never run (it would set the alias on f2).
                ipBatch(localTarget, a.name, ["link add name f2 type veth peer name f2p", "address add 10.1.1.1/24 dev nosuchdev", "link set dev f2 alias late"]),
                ipBatch(localTarget, b.name, ["link add name f3 type veth peer name f3p"]),
            ]),
        );
        assert.equal(result[0].status, "fulfilled");
        assert.equal(result[2].status, "fulfilled");
        assert.equal(result[1].status, "rejected");
        const err = (result[1] as PromiseRejectedResult).reason as CommandError;
        assert.ok(err instanceof CommandError);
        assert.equal(failedBatchLine(err), 2, "its own line number");
        assert.deepEqual(err.input!.trimEnd().split("\n"), [
            `netns exec ${a.name} ip link add name f2 type veth peer name f2p`,
            `netns exec ${a.name} ip address add 10.1.1.1/24 dev nosuchdev`,
            `netns exec ${a.name} ip link set dev f2 alias late`,
        ], "only its own lines");
        assert.match(err.message, /nosuchdev|Cannot find device/);
        assert.equal(argvs.length, 2, "the operation after the failure ran in a second process");
        assert.ok(await link("f1", a.name));
        assert.ok(await link("f3", b.name));
        const f2 = await link("f2", a.name);
        assert.ok(f2, "line 1 of the failed operation ran");
        assert.equal(f2!.ifalias, undefined, "line 3 of the failed operation never ran");
    });

    it("shares reads, each read its own output, and a missing namespace reads as absent", async () => {
        await ipBatch(localTarget, a.name, ["link add name ra type veth peer name rap"]);
        await ipBatch(localTarget, b.name, ["link add name rb type veth peer name rbp"]);
        const reads = [a.name, b.name, "nosuchns", b.name];
        const { result, argvs } = await counted(() => Promise.all(reads.map((ns) => ipShow(localTarget, ns, ["-json", "link", "show"], /Cannot open network namespace/))));
        assert.equal(result[2], undefined);
        for (const k of [0, 1, 3]) {
            assert.deepEqual((JSON.parse(result[k]!) as { ifname: string }[]).map((l) => l.ifname).sort(), (await links(reads[k])).map((l) => l.ifname).sort());
        }
        assert.ok(argvs.length < reads.length, `${argvs.length} processes for ${reads.length} reads`);
    });

    it("shares reads in the root namespace and in named ones that have the same options, a missing device reading as absent", async () => {
        await ipBatch(localTarget, undefined, ["link add name rr0 type veth peer name rr1", `link set dev rr1 netns ${a.name}`]);
        try {
            const reads: [string | undefined, string][] = [[undefined, "rr0"], [a.name, "rr1"], [undefined, "nosuchdev"], [undefined, "lo"], [a.name, "lo"]];
            const show = ([ns, dev]: [string | undefined, string]) => ipShow(localTarget, ns, ["-json", "-details", "address", "show", "dev", dev], /does not exist/);
            const { result, argvs } = await counted(() => Promise.all(reads.map(show)));
            assert.equal(result[2], undefined, "the missing device is absent");
            for (const k of [0, 1, 3, 4]) {
                const [ns, dev] = reads[k];
                const l = (JSON.parse(result[k]!) as { ifname: string; ifindex: number }[])[0];
                assert.equal(l.ifname, dev);
                assert.equal(l.ifindex, (await link(dev, ns))!.ifindex, `${dev} in ${ns ?? "the root namespace"}`);
            }
            assert.deepEqual(argvs[0], ["ip", "-json", "-details", "-batch", "-"], "the reads share one batch");
            assert.ok(argvs.length <= 3, `${argvs.length} processes for ${reads.length} reads: ${JSON.stringify(argvs)}`);
        } finally {
            await ipBatch(localTarget, undefined, ["link delete dev rr0"]);
        }
    });
});
