import { strict as assert } from "assert";
import { ipBatch, ipShow } from "../../provider/linux/batch";
import { CommandError, failedBatchLine, observeCommands } from "../../provider/linux/exec";
import { localTarget, type Target } from "../../provider/linux/target";
import { spawnSync } from "child_process";
import * as path from "path";
import { link, links, withFreshNetns } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";

/** Runs fn, collecting the processes it starts, and the lines it writes to commands kept running. */
async function counted<T>(fn: () => Promise<T>): Promise<{ result: T; argvs: string[][]; lines: string[] }> {
    const argvs: string[][] = [];
    const lines: string[] = [];
    observeCommands((argv, input, running) => void (running ? lines.push(`${argv.join(" ")} < ${input!.trimEnd()}`) : argvs.push(argv)));
    try {
        return { result: await fn(), argvs, lines };
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

    /** This machine as sudo or ssh targets are: no reader kept running, reads at the same time share one batch. */
    const sharing: Target = { ...localTarget, startLines: undefined };

    it("shares reads through sudo or ssh, each read its own output, and a missing namespace reads as absent", async () => {
        await ipBatch(localTarget, a.name, ["link add name ra type veth peer name rap"]);
        await ipBatch(localTarget, b.name, ["link add name rb type veth peer name rbp"]);
        const reads = [a.name, b.name, "nosuchns", b.name];
        const { result, argvs } = await counted(() => Promise.all(reads.map((ns) => ipShow(sharing, ns, ["-json", "link", "show"], /Cannot open network namespace/))));
        assert.equal(result[2], undefined);
        for (const k of [0, 1, 3]) {
            assert.deepEqual((JSON.parse(result[k]!) as { ifname: string }[]).map((l) => l.ifname).sort(), (await links(reads[k])).map((l) => l.ifname).sort());
        }
        assert.ok(argvs.length < reads.length, `${argvs.length} processes for ${reads.length} reads`);
    });

    /** Reads of devices in the root namespace and in `a`; the third is missing. */
    const mixed = (): [string | undefined, string][] => [[undefined, "rr0"], [a.name, "rr1"], [undefined, "nosuchdev"], [undefined, "lo"], [a.name, "lo"]];
    const showDev = (t: Target) => ([ns, dev]: [string | undefined, string]) => ipShow(t, ns, ["-json", "-details", "address", "show", "dev", dev], /does not exist/);

    /** Asserts each read's output is its own device as `ip` shows it, and the missing one absent. */
    async function assertOwn(reads: [string | undefined, string][], result: (string | undefined)[]): Promise<void> {
        for (const [k, [ns, dev]] of reads.entries()) {
            if (dev === "nosuchdev") {
                assert.equal(result[k], undefined, "the missing device is absent");
                continue;
            }
            const l = (JSON.parse(result[k]!) as { ifname: string; ifindex: number }[])[0];
            assert.equal(l.ifname, dev);
            assert.equal(l.ifindex, (await link(dev, ns))!.ifindex, `${dev} in ${ns ?? "the root namespace"}`);
        }
    }

    describe("with devices rr0 (root) and rr1 (in a)", () => {
        beforeEach(() => ipBatch(localTarget, undefined, ["link add name rr0 type veth peer name rr1", `link set dev rr1 netns ${a.name}`]));
        afterEach(() => ipBatch(localTarget, undefined, ["link delete dev rr0"]));

        it("shares reads through sudo or ssh in the root namespace and in named ones that have the same options", async () => {
            const reads = mixed();
            const { result, argvs } = await counted(() => Promise.all(reads.map(showDev(sharing))));
            await assertOwn(reads, result);
            assert.deepEqual(argvs[0], ["ip", "-json", "-details", "-batch", "-"], "the reads share one batch");
            assert.ok(argvs.length <= 3, `${argvs.length} processes for ${reads.length} reads: ${JSON.stringify(argvs)}`);
        });

        it("reads in named namespaces on this machine as lines of an ip kept running: once started, reads start no process until one fails", async () => {
            const present: [string, string][] = [[a.name, "rr1"], [a.name, "lo"], [b.name, "lo"]];
            await Promise.all(present.map(showDev(localTarget))); // readers started, or already running
            for (let round = 0; round < 3; round++) {
                const { result, argvs, lines } = await counted(() => Promise.all(present.map(showDev(localTarget))));
                await assertOwn(present, result);
                assert.deepEqual(argvs, [], `round ${round}: no process for ${present.length} reads`);
                assert.deepEqual(lines.sort(), present.map(([ns, dev]) => `ip -json -details -batch - < netns exec ${ns} ip -json -details address show dev ${dev}`).sort(),
                    "the observer is told of each line");
            }
            // A missing device ends the reader that read it (ip stops at a failed line); every read still gets its own answer.
            const reads: [string, string][] = [[a.name, "rr1"], [b.name, "lo"], [a.name, "nosuchdev"], [a.name, "lo"], [b.name, "lo"]];
            const { result, argvs } = await counted(() => Promise.all(reads.map(showDev(localTarget))));
            await assertOwn(reads, result);
            assert.ok(argvs.length <= 2, `${argvs.length} processes for ${reads.length} reads: ${JSON.stringify(argvs)}`);
            assert.ok(argvs.every((argv) => argv.join(" ") === "ip -json -details -batch -"), JSON.stringify(argvs));
        });

        it("reads in the root namespace see a link made anew (a long-lived ip would look its name up in a stale cache)", async () => {
            const before = JSON.parse((await showDev(localTarget)([undefined, "rr0"]))!)[0].ifindex as number;
            await ipBatch(localTarget, undefined, ["link delete dev rr0", `link add name rr0 type veth peer name rr1 netns ${a.name}`]);
            const after = JSON.parse((await showDev(localTarget)([undefined, "rr0"]))!)[0] as { ifindex: number } | undefined;
            assert.notEqual(after?.ifindex, before, "a new link");
            assert.equal(after?.ifindex, (await link("rr0"))!.ifindex);
        });

        it("a read on this machine that fails otherwise than absent runs alone, for its own error", async () => {
            const { result } = await counted(() =>
                Promise.allSettled([showDev(localTarget)([undefined, "rr0"]), showDev(localTarget)(["nosuchns", "lo"]), showDev(localTarget)([a.name, "rr1"])]),
            );
            assert.equal(result[0].status, "fulfilled");
            assert.equal(result[2].status, "fulfilled");
            const err = (result[1] as PromiseRejectedResult).reason as CommandError;
            assert.ok(err instanceof CommandError, String(err));
            assert.deepEqual(err.command, ["ip", "-n", "nosuchns", "-json", "-details", "address", "show", "dev", "lo"]);
            assert.match(err.message, /Cannot open network namespace "nosuchns"/);
        });
    });

    it("a reader kept running does not keep the program alive", () => {
        const script = `require(${JSON.stringify(path.resolve(__dirname, "../../provider/linux/batch"))})` +
            `.ipShow(require(${JSON.stringify(path.resolve(__dirname, "../../provider/linux/target"))}).localTarget, ${JSON.stringify(a.name)}, ["-json", "link", "show", "dev", "lo"], /x/)` +
            ".then((out) => console.log(JSON.parse(out)[0].ifname))";
        const r = spawnSync(process.execPath, ["-r", "ts-node/register", "-e", script], {
            encoding: "utf8", timeout: 20000, env: { ...process.env, TS_NODE_TRANSPILE_ONLY: "true" },
        });
        assert.equal(r.error, undefined, "exited by itself");
        assert.equal(r.status, 0, r.stderr);
        assert.equal(r.stdout.trim(), "lo", "the read was answered before the program ended");
    });
});
