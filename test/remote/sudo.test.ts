/**
 * sudo: an unprivileged user (uid 65534, no capabilities, via `setpriv`) runs resources with
 * `sudo: true`, allowed by a NOPASSWD rule written to a tmpfs mounted over /etc/sudoers.d inside
 * the sandbox's private mount namespace (the machine's sudoers are untouched); without the rule,
 * one clear error.
 */
import { strict as assert } from "assert";
import { existsSync, readFileSync, writeFileSync } from "fs";
import { freshNetnsName, link, netnsList, routes, sh, sysctl } from "../helpers/kernel";
import { owner } from "../helpers/provider";
import { describePrivileged, requireTool } from "../helpers/sandbox";
import { withUnprivilegedHandlers } from "../helpers/unprivileged";

const RULE = "nobody ALL=(root) NOPASSWD: /usr/sbin/ip, /usr/sbin/iptables, /usr/sbin/ip6tables, /usr/sbin/sysctl, /usr/sbin/tc, /usr/sbin/bridge, " +
    "/usr/bin/mkdir, /usr/bin/dd, /usr/bin/mv, /usr/bin/rm, /usr/bin/cat, /usr/bin/stat\n";

describePrivileged("sudo: an unprivileged user with sudo: true", function () {
    this.timeout(60000);
    const unprivileged = withUnprivilegedHandlers();

    /** Runs the providers' `op` ("create" or "delete") on `list` as uid 65534; returns [kind, error message or outs]. */
    async function asNobody(op: "create" | "delete", list: unknown[]): Promise<[string, string | Record<string, unknown>][]> {
        return JSON.parse(await unprivileged.run(`
            const out = [];
            for (const [kind, props] of ${JSON.stringify(list)}) {
                try { out.push([kind, ${op === "create" ? "(await handlers[kind].create(props)).outs" : "(await handlers[kind].delete('', props), {})"}]); }
                catch (err) { out.push([kind, String(err.message)]); }
            }
            console.log(JSON.stringify(out));
        `));
    }

    before(async function () {
        requireTool(this, existsSync("/usr/bin/sudo") && existsSync("/etc/sudoers.d"), "sudo");
        await sh(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs-pulumi-netns", "/etc/sudoers.d"]);
    });
    after(async () => {
        await sh(["umount", "/etc/sudoers.d"]).catch(() => undefined);
    });

    it("without a sudoers rule: one clear error, nothing made", async () => {
        const [[, message]] = await asNobody("create", [["Netns", { name: "sudo0", owner: owner("Netns", "sudo0"), sudo: true }]]);
        assert.match(String(message), /^sudo refused: pulumi-netns runs commands through `sudo -n` .*command `sudo -n -- .*` failed with exit code 1: sudo: (a password is required|.*not allowed)/);
        assert.ok(!(await netnsList()).includes("sudo0"));
    });

    it("with a NOPASSWD rule for ip, iptables, sysctl and the file commands: create, then delete, as the kernel shows", async () => {
        writeFileSync("/etc/sudoers.d/pulumi-netns", RULE, { mode: 0o440 });
        const ns = freshNetnsName("s");
        const sudo = { sudo: true };
        const list: [string, Record<string, unknown>][] = [
            ["Netns", { ...sudo, name: ns, loopbackUp: true, dns: { nameservers: ["10.66.0.53"], search: [], options: [] }, owner: owner("Netns", ns) }],
            ["VethPair", { ...sudo, name: "sv0", peerName: "eth0", peerNetns: ns, addresses: ["10.66.0.1/24"], peerAddresses: ["10.66.0.2/24"], up: true, owner: owner("VethPair", "sv") }],
            ["Route", { ...sudo, destination: "default", gateway: "10.66.0.1", netns: ns, table: "main", owner: owner("Route", "sr") }],
            ["SysctlForward", { ...sudo, netns: ns, ipv4: true, ipv6: false, restoreOnDelete: true, owner: owner("SysctlForward", "ss") }],
            ["MasqueradeRule", { ...sudo, source: "10.66.0.0/24", netns: ns, owner: owner("MasqueradeRule", "sm") }],
        ];
        try {
            const made = await asNobody("create", list);
            for (const [kind, outs] of made) assert.equal(typeof outs, "object", `${kind}: ${outs}`);
            assert.ok((await netnsList()).includes(ns));
            assert.match(readFileSync(`/etc/netns/${ns}/resolv.conf`, "utf8"), /\nnameserver 10\.66\.0\.53\n$/, "resolv.conf written through sudo");
            assert.deepEqual((await link("sv0"))?.ifalias, owner("VethPair", "sv"));
            assert.equal((await routes(ns)).find((r) => r.dst === "default")?.gateway, "10.66.0.1");
            assert.equal(await sysctl("net.ipv4.ip_forward", ns), "1");
            assert.match(await sh(["ip", "netns", "exec", ns, "iptables-save", "-t", "nat"]), /-s 10\.66\.0\.0\/24 .*-j MASQUERADE/);
            const gone = await asNobody("delete", made.map(([kind, outs]) => [kind, outs]).reverse());
            for (const [kind, r] of gone) assert.deepEqual(r, {}, `${kind}: ${r}`);
            assert.ok(!(await netnsList()).includes(ns), JSON.stringify([made, gone, await sh(["ls", "-la", "/run/netns", "/run/pulumi-netns/netns"]).catch((e) => String(e))]));
            assert.ok(!existsSync(`/etc/netns/${ns}`), "and its /etc/netns folder, through sudo");
            assert.equal(await link("sv0"), undefined);
        } finally {
            if ((await netnsList()).includes(ns)) await sh(["ip", "netns", "del", ns]);
            await sh(["ip", "link", "del", "sv0"]).catch(() => undefined);
        }
    });
});
