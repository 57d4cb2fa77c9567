import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import { join } from "path";
import { netnsProvider } from "../../provider/resources/netns";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, link, netnsList, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

describe("resources/netns: check and diff (no commands)", () => {
    it("validates names and leaves defaults out of the state, running nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(netnsProvider, { name: "blue", owner: owner("Netns", "blue") }), {
                name: "blue",
                owner: owner("Netns", "blue"),
            });
            assert.deepEqual(await failedProperties(netnsProvider, { name: "../etc", owner: owner("Netns", "x") }), ["name"]);
            assert.deepEqual(await failedProperties(netnsProvider, { name: "-n", loopbackUp: "yes", owner: owner("Netns", "x") }), ["loopbackUp", "name"]);
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces on rename and updates loopbackUp in place", async () => {
        const o = { name: "blue", loopbackUp: true, owner: owner("Netns", "blue"), path: "/run/netns/blue" };
        assert.deepEqual(await netnsProvider.diff!("blue", o, { ...o, name: "red" }), { changes: true, replaces: ["name"], deleteBeforeReplace: true });
        assert.deepEqual(await netnsProvider.diff!("blue", o, { ...o, loopbackUp: false }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await netnsProvider.diff!("blue", o, { name: "blue", loopbackUp: true, owner: o.owner }), { changes: false, replaces: [], deleteBeforeReplace: true });
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
        assert.ok((await link("lo", name))!.flags.includes("UP"));
        assert.equal(outs.path, `/run/netns/${name}`);

        assert.deepEqual((await netnsProvider.read!(id, outs)).props, outs);
        await sh(["ip", "-n", name, "link", "set", "dev", "lo", "down"]);
        assert.equal((await netnsProvider.read!(id, outs)).props!.loopbackUp, false);
        await netnsProvider.update!(id, { ...outs, loopbackUp: false }, inputs);
        assert.ok((await link("lo", name))!.flags.includes("UP"));

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
        assert.equal((await link("lo", name))!.flags.includes("UP"), false);
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

    it("writes dns and hosts as /etc/netns files that ip netns exec shows, reads drift back, restores it, and removes them with the folder", async () => {
        const name = freshNetnsName();
        const dir = `/etc/netns/${name}`;
        const inputs = await checked(netnsProvider, {
            name, owner: owner("Netns", name),
            dns: { nameservers: ["203.0.113.53", "FD00::53"], search: ["lab.test"], options: ["ndots:2"] },
            hosts: { "10.9.0.5": ["db", "db.lab.test"] },
        });
        assert.deepEqual(inputs.dns, { nameservers: ["203.0.113.53", "fd00::53"], search: ["lab.test"], options: ["ndots:2"] });
        assert.ok(!existsSync(dir));
        const { id, outs } = await netnsProvider.create(inputs);
        const resolv = readFileSync(`${dir}/resolv.conf`, "utf8");
        assert.match(resolv, new RegExp(`^# ${outs.owner} `));
        // What a program in the namespace sees: ip netns exec bind-mounts the files over /etc.
        assert.equal(await sh(["ip", "netns", "exec", name, "cat", "/etc/resolv.conf"]), resolv);
        assert.match(await sh(["ip", "netns", "exec", name, "getent", "hosts", "db.lab.test"]), /^10\.9\.0\.5\s+db db\.lab\.test\n$/);
        assert.match(await sh(["ip", "netns", "exec", name, "getent", "hosts", "localhost"]), /^(127\.0\.0\.1|::1)\s+localhost/);
        assert.deepEqual((await netnsProvider.read!(id, outs)).props, outs, "no drift right after create");

        // Drift: a nameserver edited by hand, the hosts file removed.
        writeFileSync(`${dir}/resolv.conf`, resolv.replace("203.0.113.53", "198.51.100.1"));
        rmSync(`${dir}/hosts`);
        const drifted = (await netnsProvider.read!(id, outs)).props!;
        assert.deepEqual(drifted.dns.nameservers, ["198.51.100.1", "fd00::53"]);
        assert.equal(drifted.hosts, undefined);
        assert.equal((await netnsProvider.diff!(id, drifted, inputs)).changes, true);
        await netnsProvider.update!(id, drifted, inputs);
        assert.equal(readFileSync(`${dir}/resolv.conf`, "utf8"), resolv);
        assert.deepEqual((await netnsProvider.read!(id, outs)).props, outs);

        // dns left out: its file goes, hosts stays; both left out: the folder (made by this resource) goes too.
        const { dns: _d, ...withoutDns } = inputs;
        await netnsProvider.update!(id, outs, withoutDns);
        assert.ok(!existsSync(`${dir}/resolv.conf`) && existsSync(`${dir}/hosts`));
        const { hosts: _h, ...plain } = withoutDns;
        await netnsProvider.update!(id, outs, plain);
        assert.ok(!existsSync(dir), "the empty folder this resource made is removed");
        await netnsProvider.update!(id, outs, inputs);
        assert.ok(existsSync(`${dir}/resolv.conf`));

        await netnsProvider.delete!(id, outs);
        assert.ok(!existsSync(dir), "delete removes the files and the folder");
        await netnsProvider.delete!(id, outs);
    });

    it("never overwrites or removes an /etc/netns file it did not write, and keeps a folder it did not make", async () => {
        const name = freshNetnsName();
        const dir = `/etc/netns/${name}`;
        mkdirSync(dir);
        writeFileSync(`${dir}/resolv.conf`, "nameserver 192.0.2.1\n");
        try {
            const inputs = await checked(netnsProvider, { name, owner: owner("Netns", name), dns: { nameservers: ["192.0.2.53"] } });
            const cmds = await commandsDuring(() => assert.rejects(netnsProvider.create(inputs), /resolv\.conf exists and was not written by this resource \(it has no pulumi-netns marker on its first line\): pulumi-netns never overwrites it/));
            assert.deepEqual(cmds, [], "refused before any command");
            assert.ok(!(await netnsList()).includes(name), "no namespace left behind");
            assert.equal(readFileSync(`${dir}/resolv.conf`, "utf8"), "nameserver 192.0.2.1\n");

            // hosts only: written next to the foreign resolv.conf, which delete leaves, with the folder.
            const { dns: _d, ...rest } = inputs;
            const hostsOnly = await checked(netnsProvider, { ...rest, hosts: { "192.0.2.7": ["web"] } });
            const { id, outs } = await netnsProvider.create(hostsOnly);
            assert.ok(existsSync(`${dir}/hosts`));
            // The file taken over by hand (marker gone): read reports it as not there, update refuses to overwrite it.
            writeFileSync(`${dir}/hosts`, "192.0.2.8 web\n");
            const read = (await netnsProvider.read!(id, outs)).props!;
            assert.equal(read.hosts, undefined);
            await assert.rejects(netnsProvider.update!(id, read, hostsOnly), /hosts exists and was not written by this resource/);
            await netnsProvider.delete!(id, outs);
            assert.equal(readFileSync(`${dir}/hosts`, "utf8"), "192.0.2.8 web\n");
            assert.equal(readFileSync(`${dir}/resolv.conf`, "utf8"), "nameserver 192.0.2.1\n");
        } finally {
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("refuses bad dns and hosts before running anything", async () => {
        const o = owner("Netns", "x");
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await failedProperties(netnsProvider, { name: "x", owner: o, dns: { nameservers: [] } }), ["dns.nameservers"]);
            assert.deepEqual(await failedProperties(netnsProvider, { name: "x", owner: o, dns: { nameservers: ["1.1.1.1", "1.0.0.1", "8.8.8.8", "9.9.9.9"] } }), ["dns.nameservers"]);
            assert.deepEqual(await failedProperties(netnsProvider, { name: "x", owner: o, dns: { nameservers: ["10.0.0.300"], search: ["a b"], options: ["ndots 2"] } }), ["dns.nameservers.0", "dns.options.0", "dns.search.0"]);
            assert.deepEqual(await failedProperties(netnsProvider, { name: "x", owner: o, dns: { nameserver: ["10.0.0.1"] } }), ["dns.nameserver", "dns.nameservers"]);
            assert.deepEqual(await failedProperties(netnsProvider, { name: "x", owner: o, hosts: { "10.0.0.1/24": ["a"], "10.0.0.2": [], "10.0.0.3": ["-x"] } }), ["hosts.10.0.0.1/24", "hosts.10.0.0.2", "hosts.10.0.0.3.0"]);
        });
        assert.deepEqual(cmds, []);
        const r = await netnsProvider.check!({}, { name: "x", owner: o, dns: { nameserver: ["10.0.0.1"] } });
        assert.match(r.failures!.find((f) => f.property === "dns.nameserver")!.reason, /did you mean 'nameservers'\?/);
    });
});
