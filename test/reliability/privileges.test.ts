/**
 * Privileges: every resource's create, run by an unprivileged user (uid 65534, no capabilities,
 * via `setpriv`) inside the sandbox, fails with one clear error saying what is missing (and
 * still naming the refused command), and changes nothing.
 */
import { strict as assert } from "assert";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, sh, snapshotHost } from "../helpers/kernel";
import { owner } from "../helpers/provider";
import { withUnprivilegedHandlers } from "../helpers/unprivileged";

/** The resources created by the unprivileged user: [kind, inputs (without owner)]. */
function cases(ns: string): [string, Record<string, unknown>][] {
    return [
        ["Netns", { name: "unpriv", loopbackUp: true }],
        ["Bridge", { name: "br0", addresses: [], up: true }],
        ["VethPair", { name: "v0", peerName: "v1", addresses: [], peerAddresses: [], up: true }],
        ["Route", { destination: "10.1.0.0/16", device: "lo", table: "main" }],
        ["Route", { destination: "10.1.0.0/16", device: "lo", table: "main", netns: ns }],
        ["MasqueradeRule", { source: "10.1.0.0/16" }],
        ["ForwardRule", { inInterface: "br0", established: false }],
        ["SysctlForward", { ipv4: true, ipv6: false, restoreOnDelete: true }],
        ["SysctlForward", { ipv4: true, ipv6: false, restoreOnDelete: true, netns: ns }],
        ["VethPair", { name: "v2", peerName: "eth0", peerNetns: ns, addresses: [], peerAddresses: [], up: true }],
    ];
}

describePrivileged("reliability: run without CAP_NET_ADMIN", function () {
    const unprivileged = withUnprivilegedHandlers();
    it("each resource's create fails with one clear error naming the missing capability, and nothing changes", async () => {
        const ns = freshNetnsName("u");
        await sh(["ip", "netns", "add", ns]);
        try {
            const list = cases(ns).map(([kind, inputs]) => [kind, { ...inputs, owner: owner(kind, "unpriv") }]);
            const before = await snapshotHost();
            const stdout = await unprivileged.run(`
                const out = [];
                for (const [kind, inputs] of ${JSON.stringify(list)}) {
                    try { await handlers[kind].create(inputs); out.push([kind, null]); }
                    catch (err) { out.push([kind, String(err.message)]); }
                }
                console.log(JSON.stringify(out));
            `);
            const results = JSON.parse(stdout) as [string, string | null][];
            assert.equal(results.length, list.length);
            for (const [kind, message] of results) {
                assert.ok(message, `${kind}: must fail`);
                assert.match(message, /^not permitted: pulumi-netns needs (CAP_NET_ADMIN|root)/, `${kind}: ${message}`);
                assert.match(message, /run it as root; /, kind);
                if (!/write access/.test(message)) {
                    assert.match(message, /command `(ip|iptables|sysctl) [^`]*` .*failed with exit code \d+: .*(Operation not permitted|Permission denied|permission denied)/, `${kind}: ${message}`);
                }
            }
            // Entering or making a named namespace also needs CAP_SYS_ADMIN, and the message says so (a Netns
            // fails earlier still, writing its ownership marker under /run before `ip netns add`).
            assert.match(results[0][1]!, /needs CAP_NET_ADMIN and CAP_SYS_ADMIN.*ip netns add unpriv|needs root \(CAP_NET_ADMIN, and write access to its ownership markers/);
            assert.match(results[4][1]!, /needs CAP_NET_ADMIN and CAP_SYS_ADMIN.*ip -n /);
            assert.match(results[9][1]!, /needs CAP_NET_ADMIN and CAP_SYS_ADMIN.*ip -batch -` \(reading: .*"netns exec /, "a batch entering a namespace");
            assert.equal(await snapshotHost(), before, "nothing changed");
            console.log(results.map(([k, m]) => `      ${k}: ${m}`).join("\n"));
        } finally {
            await sh(["ip", "netns", "del", ns]);
        }
    });
});
