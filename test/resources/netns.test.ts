import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { netnsProvider } from "../../provider/resources/netns";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, link, netnsList, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

describe("resources/netns: check and diff (no commands)", () => {
    it("validates names and fills defaults, running nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(netnsProvider, { name: "blue", owner: owner("Netns", "blue") }), {
                name: "blue",
                loopbackUp: true,
                owner: owner("Netns", "blue"),
            });
            assert.deepEqual(await failedProperties(netnsProvider, { name: "../etc", owner: owner("Netns", "x") }), ["name"]);
            assert.deepEqual(await failedProperties(netnsProvider, { name: "-n", loopbackUp: "yes", owner: owner("Netns", "x") }), ["loopbackUp", "name"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces on rename and updates loopbackUp in place", async () => {
        const o = { name: "blue", loopbackUp: true, owner: owner("Netns", "blue"), path: "/run/netns/blue" };
        assert.deepEqual(await netnsProvider.diff!("blue", o, { ...o, name: "red" }), { changes: true, replaces: ["name"], deleteBeforeReplace: false });
        assert.deepEqual(await netnsProvider.diff!("blue", o, { ...o, loopbackUp: false }), { changes: true, replaces: [], deleteBeforeReplace: false });
        assert.deepEqual(await netnsProvider.diff!("blue", o, { name: "blue", loopbackUp: true, owner: o.owner }), { changes: false, replaces: [], deleteBeforeReplace: false });
    });
});

describePrivileged("resources/netns: against the kernel", () => {
    it("creates, reads, repairs drift, adopts its own and deletes idempotently", async () => {
        const name = freshNetnsName();
        const inputs = await checked(netnsProvider, { name, owner: owner("Netns", name) });
        let made: Awaited<ReturnType<typeof netnsProvider.create>> | undefined;
        const cmds = await commandsDuring(async () => (made = await netnsProvider.create(inputs)));
        const { id, outs } = made!;
        assert.deepEqual(cmds, [["ip", "-batch", "-"]], "namespace and lo in one process");
        assert.ok((await netnsList()).includes(name));
        assert.ok((await link("lo", name)).flags.includes("UP"));
        assert.equal(outs.path, `/run/netns/${name}`);

        assert.deepEqual((await netnsProvider.read!(id, outs)).props, outs);
        await sh(["ip", "-n", name, "link", "set", "dev", "lo", "down"]);
        assert.equal((await netnsProvider.read!(id, outs)).props!.loopbackUp, false);
        await netnsProvider.update!(id, { ...outs, loopbackUp: false }, inputs);
        assert.ok((await link("lo", name)).flags.includes("UP"));

        // A second create (crash before the engine saved state) adopts the namespace it marked.
        await netnsProvider.create(inputs);
        assert.equal((await netnsList()).filter((n) => n === name).length, 1);

        await netnsProvider.delete!(id, outs);
        assert.ok(!(await netnsList()).includes(name));
        assert.ok(!existsSync(`/run/pulumi-netns/netns/${name}`));
        await netnsProvider.delete!(id, outs);
        assert.deepEqual(await netnsProvider.read!(id, outs), { id: "", props: {} });
    });

    it("with loopbackUp false, leaves lo down; a failure bringing lo up leaves nothing behind", async () => {
        const name = freshNetnsName();
        const inputs = await checked(netnsProvider, { name, loopbackUp: false, owner: owner("Netns", name) });
        const { id, outs } = await netnsProvider.create(inputs);
        assert.equal((await link("lo", name)).flags.includes("UP"), false);
        await netnsProvider.delete!(id, outs);

        // `ip netns exec NS ip link set dev lo up` runs the ip found on PATH: one that refuses makes the batch fail after `netns add`.
        const failing = await checked(netnsProvider, { name, owner: owner("Netns", name) });
        const dir = mkdtempSync(join(tmpdir(), "ip-refusing-lo-"));
        const realIp = execFileSync("bash", ["-c", "command -v ip"], { encoding: "utf8" }).trim();
        writeFileSync(join(dir, "ip"), `#!/bin/sh\n[ "$*" = "link set dev lo up" ] && { echo "refused by the test" >&2; exit 1; }\nexec ${realIp} "$@"\n`, { mode: 0o755 });
        const path = process.env.PATH;
        process.env.PATH = `${dir}:${path}`;
        try {
            await assert.rejects(netnsProvider.create(failing), /refused by the test/);
        } finally {
            process.env.PATH = path;
            rmSync(dir, { recursive: true });
        }
        assert.ok(!(await netnsList()).includes(name), "the namespace made by the failed create is gone");
        assert.ok(!existsSync(`/run/pulumi-netns/netns/${name}`));
    });

    it("refuses a namespace it does not own and leaves it alone", async () => {
        const name = freshNetnsName();
        await sh(["ip", "netns", "add", name]);
        try {
            const inputs = await checked(netnsProvider, { name, owner: owner("Netns", name) });
            await assert.rejects(netnsProvider.create(inputs), /already exists and is not owned by this resource/);
            await netnsProvider.delete!(name, { ...inputs, path: "" });
            assert.ok((await netnsList()).includes(name), "a foreign namespace must survive delete");
        } finally {
            await sh(["ip", "netns", "del", name]);
        }
    });

    it("treats a namespace deleted and recreated by hand as gone", async () => {
        const name = freshNetnsName();
        const inputs = await checked(netnsProvider, { name, owner: owner("Netns", name) });
        const { id, outs } = await netnsProvider.create(inputs);
        await sh(["ip", "netns", "del", name]);
        await sh(["ip", "netns", "add", name]);
        assert.equal((await netnsProvider.read!(id, outs)).id, "");
        await netnsProvider.delete!(id, outs);
        assert.ok((await netnsList()).includes(name), "the new namespace is not ours");
        await sh(["ip", "netns", "del", name]);
    });
});
