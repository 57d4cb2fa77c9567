/**
 * NAT for a private namespace, with the internet replaced by a `wan` namespace
 * that has no route back to the private range: only masquerading makes replies come back.
 * Topology (plain `ip` commands); the NAT itself goes through the providers.
 *
 *   priv [eth0 192.168.50.2/24, default via .1] ── pv* ⊂ br-nat 192.168.50.1/24 (sandbox root)
 *   sandbox root [up* 203.0.113.2/24] ── wan [eth0 203.0.113.1/24]
 */
import { strict as assert } from "assert";
import { forwardRuleProvider } from "../../provider/resources/forward";
import { netnsProvider } from "../../provider/resources/netns";
import { haveDnsmasq, startDnsServer } from "../helpers/dns";
import { masqueradeRuleProvider } from "../../provider/resources/masquerade";
import { sysctlForwardProvider } from "../../provider/resources/sysctl";
import { freshNetnsName, ip6tablesSave, iptablesSave, ping, sh, shOk, sysctl, uniqueIfName } from "../helpers/kernel";
import { checked, owner } from "../helpers/provider";
import { describePrivileged, requireTool } from "../helpers/sandbox";
import type * as pulumi from "@pulumi/pulumi";

/**
 * iptables-save, ip6tables-save and the forwarding sysctls of the sandbox root. A table whose
 * chains are all empty with policy ACCEPT is left out: iptables-nft creates the nat table the
 * first time a command touches it, and deleting our rules (rightly) does not delete the table.
 */
async function snapshotNat(): Promise<string> {
    const dropEmptyTables = (save: string) =>
        save.replace(/^\*\w+\n(?::[A-Z]+ ACCEPT \[\d+:\d+\]\n)*COMMIT\n/gm, "");
    return JSON.stringify({
        iptables: dropEmptyTables(await iptablesSave()),
        ip6tables: dropEmptyTables(await ip6tablesSave()),
        ipv4: await sysctl("net.ipv4.ip_forward"),
        ipv4all: await sysctl("net.ipv4.conf.all.forwarding"),
        ipv6: await sysctl("net.ipv6.conf.all.forwarding"),
    }, null, 1);
}

describePrivileged("scenario: NAT from a private namespace to a wan namespace", () => {
    const wan = freshNetnsName("wan");
    const priv = freshNetnsName("priv");
    const uplink = uniqueIfName("up");
    const pv = uniqueIfName("pv");
    const bridge = "br-nat";

    let privNetns: { id: string; outs?: Record<string, unknown> };

    before(async () => {
        // priv is a Netns resource whose resolver is the DNS server in wan (a name served there is what the NAT must reach).
        const inputs = await checked(netnsProvider, { name: priv, dns: { nameservers: ["203.0.113.1"], options: ["timeout:1", "attempts:1"] }, owner: owner("Netns", priv) });
        privNetns = await netnsProvider.create(inputs);
        for (const argv of [
            ["ip", "netns", "add", wan],
            ["ip", "-n", wan, "link", "set", "lo", "up"],
            ["ip", "link", "add", uplink, "type", "veth", "peer", "name", "eth0", "netns", wan],
            ["ip", "addr", "add", "203.0.113.2/24", "dev", uplink],
            ["ip", "link", "set", uplink, "up"],
            ["ip", "-n", wan, "addr", "add", "203.0.113.1/24", "dev", "eth0"],
            ["ip", "-n", wan, "link", "set", "eth0", "up"],
            ["ip", "link", "add", bridge, "type", "bridge"],
            ["ip", "addr", "add", "192.168.50.1/24", "dev", bridge],
            ["ip", "link", "set", bridge, "up"],
            ["ip", "link", "add", pv, "type", "veth", "peer", "name", "eth0", "netns", priv],
            ["ip", "link", "set", pv, "master", bridge, "up"],
            ["ip", "-n", priv, "addr", "add", "192.168.50.2/24", "dev", "eth0"],
            ["ip", "-n", priv, "link", "set", "eth0", "up"],
            ["ip", "-n", priv, "route", "add", "default", "via", "192.168.50.1"],
            // Inside the sandbox only: a host that drops forwarded traffic by default.
            ["iptables", "-w", "-P", "FORWARD", "DROP"],
        ]) {
            await sh(argv);
        }
    });

    after(async () => {
        await sh(["iptables", "-w", "-P", "FORWARD", "ACCEPT"]);
        for (const argv of [["ip", "link", "del", pv], ["ip", "link", "del", uplink], ["ip", "link", "del", bridge], ["ip", "netns", "del", wan]]) {
            await sh(argv).catch(() => undefined);
        }
        await netnsProvider.delete!(privNetns.id, privNetns.outs);
    });

    /** The NAT through the providers, for the duration of `fn`; deleted after. */
    async function withNat(fn: () => Promise<void>): Promise<void> {
        const resources: [pulumi.dynamic.ResourceProvider, string, Record<string, unknown>][] = [
            [sysctlForwardProvider, "SysctlForward", {}],
            [masqueradeRuleProvider, "MasqueradeRule", { source: "192.168.50.0/24", outInterface: uplink }],
            [forwardRuleProvider, "ForwardRule", { inInterface: bridge }],
            [forwardRuleProvider, "ForwardRule", { outInterface: bridge, established: true }],
        ];
        const made: { p: pulumi.dynamic.ResourceProvider; id: string; outs: Record<string, unknown> }[] = [];
        try {
            for (const [p, type, args] of resources) {
                const inputs = await checked(p, { ...args, owner: owner(type, `nat${made.length}`) });
                const { id, outs } = await p.create(inputs);
                made.push({ p, id, outs });
            }
            await fn();
        } finally {
            for (const { p, id, outs } of made.reverse()) await p.delete!(id, outs);
        }
    }

    it("pings the wan only while SysctlForward, MasqueradeRule and two ForwardRules exist, and leaves no trace", async () => {
        assert.equal(await ping(priv, "192.168.50.1"), true, "the bridge is reachable");
        assert.equal(await ping(priv, "203.0.113.1"), false, "no forwarding yet");
        const before = await snapshotNat();

        await withNat(async () => {
            assert.equal(await sysctl("net.ipv4.ip_forward"), "1");
            assert.equal((await iptablesSave()).split("pulumi-netns:").length - 1, 3);
            assert.equal(await ping(priv, "203.0.113.1"), true, "NAT works");
        });

        assert.equal(await ping(priv, "203.0.113.1"), false, "no NAT after delete");
        const after = await snapshotNat();
        assert.equal(after, before, "iptables rules and forwarding sysctls as before");
        assert.match(after, /:FORWARD DROP/);
    });

    it("resolves a name served by a real DNS server in wan, through the NAT, and pings it by name", async function () {
        requireTool(this, haveDnsmasq(), "dnsmasq (Debian's dnsmasq-base)");
        const name = "wan.nat.test";
        const dns = await startDnsServer(wan, "203.0.113.1", { [name]: "203.0.113.1" });
        try {
            const lookup = () => shOk(["ip", "netns", "exec", priv, "getent", "hosts", name], { timeoutMs: 10000 });
            assert.equal(await lookup(), false, "no answer without the NAT: the resolver is only reachable through it");
            await withNat(async () => {
                assert.match(await sh(["ip", "netns", "exec", priv, "getent", "hosts", name]), new RegExp(`^203\\.0\\.113\\.1\\s+${name.replace(/\./g, "\\.")}`));
                assert.equal(await ping(priv, name), true, `ping ${name} from ${priv}`);
            });
        } finally {
            await dns.stop();
        }
    });
});
