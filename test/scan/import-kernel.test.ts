/**
 * `pulumi import` against the kernel: a network built by hand with `ip` and `iptables`, scanned as
 * `pulumi-netns scan --format import` writes it, then each id found again by importInputs, with the
 * inputs scan declared; and found again once the import itself has marked it (its owner token given).
 * In a fresh namespace, a bridge and a veth of unique names, and root rules naming that bridge, all
 * removed after.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import { parseScanArgs, scanOutput } from "../../provider/bin";
import { RESOURCE_NAME } from "../../provider/core/owner";
import { kinds } from "../../provider/handlers";
import { writeMarker, removeMarker } from "../../provider/linux/marker";
import { netnsId, removeNetnsMarker, writeNetnsMarker } from "../../provider/linux/netns";
import { localTarget } from "../../provider/linux/target";
import { CHAIN_MARKER_DIR } from "../../provider/resources/iptables-chain";
import { declare, importInputs, literalInputs, scanHost } from "../../provider/scan";
import { freshNetnsName, inNs, sh, uniqueIfName } from "../helpers/kernel";
import { assertSandbox, describePrivileged } from "../helpers/sandbox";

/**
 * The network a script builds by hand: namespace `ns` on bridge `br` through veth `veth` (its end
 * `eth0` in the namespace, with a default route), root MASQUERADE and FORWARD rules naming the
 * bridge, and in the namespace a firewall of its own and forwarding. `masquerade` and `forward` are
 * the root rules' arguments (with `-A`), for the cleanup.
 */
function handMade(ns: string, br: string, veth: string): { masquerade: string[]; forward: string[]; script: string[][] } {
    const masquerade = ["-t", "nat", "-A", "POSTROUTING", "-s", "10.231.0.0/24", "!", "-o", br, "-j", "MASQUERADE"];
    const forward = ["-A", "FORWARD", "-i", br, "-j", "ACCEPT"];
    return {
        masquerade,
        forward,
        script: [
            ["ip", "netns", "add", ns],
            ["ip", "link", "add", br, "type", "bridge"],
            ["ip", "addr", "add", "10.231.0.1/24", "dev", br],
            ["ip", "link", "set", br, "up"],
            ["ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns],
            ["ip", "link", "set", veth, "master", br, "up"],
            ["ip", "-n", ns, "addr", "add", "10.231.0.2/24", "dev", "eth0"],
            ["ip", "-n", ns, "link", "set", "eth0", "up"],
            ["ip", "-n", ns, "route", "add", "default", "via", "10.231.0.1"],
            ["iptables", ...masquerade],
            ["iptables", ...forward],
            // In the namespace: a firewall of its own, and forwarding.
            ["ip", "netns", "exec", ns, "iptables", "-N", "FILTERS"],
            ["ip", "netns", "exec", ns, "iptables", "-A", "INPUT", "-j", "FILTERS"],
            ["ip", "netns", "exec", ns, "iptables", "-A", "FILTERS", "-s", "192.0.2.0/24", "-p", "tcp", "--dport", "22", "-j", "ACCEPT"],
            ["ip", "netns", "exec", ns, "iptables", "-P", "FORWARD", "DROP"],
            ["ip", "netns", "exec", ns, "ip6tables", "-A", "INPUT", "-p", "tcp", "-j", "DROP"],
            ["ip", "netns", "exec", ns, "sysctl", "-q", "-w", "net.ipv4.ip_forward=1"],
        ],
    };
}

describePrivileged("scan/import: ids of a hand-built network found again on the kernel", function () {
    this.timeout(60000);
    const ns = freshNetnsName("imp");
    const br = uniqueIfName("ibr");
    const veth = uniqueIfName("iv");
    const { masquerade, forward, script } = handMade(ns, br, veth);
    const token = "pulumi-netns:0123456789abcdef";

    before(async () => {
        assertSandbox();
        for (const argv of script) await sh(argv);
    });

    after(async () => {
        await sh(["iptables", ...masquerade.map((a) => (a === "-A" ? "-D" : a))]).catch(() => undefined);
        await sh(["iptables", ...forward.map((a) => (a === "-A" ? "-D" : a))]).catch(() => undefined);
        await sh(["ip", "netns", "del", ns]).catch(() => undefined); // and the veth pair with it
        await sh(["ip", "link", "del", br]).catch(() => undefined);
    });

    it("finds every id of `scan --format import` again, with the inputs scan declared and the id create gives", async () => {
        const file = JSON.parse(await scanOutput(parseScanArgs(["scan", "--netns", ns, "--format", "import"]))) as { resources: { type: string; name: string; id: string }[] };
        const decls = declare(await scanHost(localTarget, [ns]));
        const ids = Object.fromEntries(file.resources.map((r) => [r.id, r.type]));
        // What the script made, each under the id that reads like it.
        for (const [id, type] of [
            [ns, "Netns"], [br, "Bridge"], [veth, "VethPair"], [`${ns}/default`, "Route"],
            [`-t nat -A POSTROUTING -s 10.231.0.0/24 ! -o ${br} -j MASQUERADE`, "MasqueradeRule"], [`-A FORWARD -i ${br} -j ACCEPT`, "ForwardRule"],
            [`${ns}/-N FILTERS`, "IptablesChain"], [`${ns}/-A INPUT -j FILTERS`, "IptablesRule"], [`${ns}/-A FILTERS -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT`, "IptablesRule"],
            [`${ns}/-6 -A INPUT -p tcp -j DROP`, "IptablesRule"], [`${ns}/-P FORWARD DROP`, "ChainPolicy"], [`${ns}/net.ipv4.ip_forward`, "SysctlForward"],
        ]) assert.equal(ids[id], `netns:index:${type}`, `${id} in ${JSON.stringify(file.resources, null, 1)}`);
        assert.equal(file.resources.length, decls.length);
        // The YAML program declares the same resources under the same names.
        const program = yaml.load(await scanOutput(parseScanArgs(["scan", "--netns", ns, "--format", "yaml"]))) as { resources: Record<string, { type: string }> };
        assert.deepEqual(Object.entries(program.resources).map(([name, r]) => [r.type, name]), file.resources.map((r) => [r.type, r.name]));
        const created: Record<string, string> = {
            [ns]: ns, [br]: `/${br}`, [veth]: `/${veth}`, [`${ns}/default`]: `${ns}/main/default/`,
        };
        for (const r of file.resources) {
            const d = decls.find((x) => x.key === r.name)!;
            assert.equal(`netns:index:${d.kind}`, r.type);
            const found = await importInputs(localTarget, r.type, r.id);
            assert.deepEqual(found.inputs, literalInputs(d), `${r.type} ${r.id}`);
            assert.equal(found.id, created[r.id] ?? r.id, `${r.type} ${r.id}`);
        }
        const { mac, peerMac, ...pair } = (await importInputs(localTarget, "VethPair", veth)).inputs;
        assert.deepEqual(pair, { name: veth, master: br, peerName: "eth0", peerNetns: ns, peerAddresses: ["10.231.0.2/24"] }, "literal values where the program has references");
        assert.match(`${mac} ${peerMac}`, /^[0-9a-f:]{17} [0-9a-f:]{17}$/);
        // Another spelling of the same rule is the same rule: found, under its one id.
        assert.equal((await importInputs(localTarget, "netns:index:MasqueradeRule", `-t nat -A POSTROUTING ! -o ${br} -s 10.231.0.0/24 -j MASQUERADE`)).id, `-t nat -A POSTROUTING -s 10.231.0.0/24 ! -o ${br} -j MASQUERADE`);
    });

    it("says what it looked for, where, and what is there when nothing has the id", async () => {
        const fails = async (kind: string, id: string, message: RegExp) => {
            await assert.rejects(importInputs(localTarget, kind, id), (err: Error) => {
                assert.match(err.message, message);
                return true;
            }, `${kind} ${id}`);
        };
        await fails("Bridge", "nosuch0", new RegExp(`^cannot import netns:index:Bridge "nosuch0": no bridge with this id in the root namespace that pulumi-netns scan declares as a Bridge; links there: .*${br} \\(bridge\\)`));
        await fails("VethPair", `${ns}/eth0`, new RegExp(`eth0 is the peer end of the veth pair "${veth}": import that id as netns:index:VethPair`));
        await fails("IptablesRule", `-t nat -A POSTROUTING -s 10.231.0.0/24 ! -o ${br} -j MASQUERADE`, /scan declares it as a MasqueradeRule: import it as netns:index:MasqueradeRule "-t nat -A POSTROUTING/);
        await fails("Route", `${ns}/10.9.0.0/16`, new RegExp(`no route with this id in namespace "${ns}" .*; Route ids there: "${ns}/default"`));
        await fails("Route", "nosuchns/default", /there is no namespace "nosuchns" \(namespaces here: .*imp/);
        await fails("Netns", "nosuchns", /^cannot import netns:index:Netns "nosuchns": there is no namespace "nosuchns"/);
        await fails("ChainPolicy", `${ns}/-P INPUT DROP`, new RegExp(`ChainPolicy ids there: "${ns}/-P FORWARD DROP"`));
        await fails("SysctlForward", `${ns}/net.ipv6.conf.all.forwarding`, new RegExp(`SysctlForward ids there: "${ns}/net.ipv4.ip_forward"`));
        await fails("Bridge", `${ns}/br 0`, /^bad import id for netns:index:Bridge .*: an interface name may contain only ASCII letters/);
    });

    it("refuses an object a stack already owns (it carries a pulumi-netns marker)", async () => {
        const owned = async (kind: string, id: string, marker = token) => {
            await assert.rejects(importInputs(localTarget, kind, id), (err: Error) => {
                assert.match(err.message, new RegExp(`^cannot import netns:index:${kind} .*: it is already owned by a stack \\(it carries the pulumi-netns marker ${marker}\\)`));
                return true;
            }, `${kind} ${id}`);
        };
        const br2 = uniqueIfName("obr");
        await sh(["ip", "link", "add", br2, "type", "bridge"]);
        try {
            await sh(["ip", "link", "set", br2, "alias", token]);
            await owned("Bridge", br2);
            await sh(inNs(ns, ["iptables", "-A", "FORWARD", "-i", "eth0", "-m", "comment", "--comment", token, "-j", "ACCEPT"]));
            await owned("ForwardRule", `${ns}/-A FORWARD -i eth0 -j ACCEPT`);
            await sh(["ip", "-n", ns, "route", "add", "10.77.0.0/16", "via", "10.231.0.1", "proto", "250"]);
            await owned("Route", `${ns}/10.77.0.0/16`, "proto 250");
            // A route carries no token: with an owner given (an import's own read again), proto 250 is taken as its own.
            assert.deepEqual(await importInputs(localTarget, "Route", `${ns}/10.77.0.0/16`, { owner: token }), { id: `${ns}/main/10.77.0.0/16/`, inputs: { destination: "10.77.0.0/16", gateway: "10.231.0.1", device: "eth0", netns: ns } });
            // Namespaces and chains carry theirs in marker files: scan declares them, import refuses them.
            const inode = (await netnsId(localTarget, ns))!;
            await writeNetnsMarker(localTarget, ns, { owner: token, ...inode });
            await owned("Netns", ns);
            await removeNetnsMarker(localTarget, ns);
            await writeMarker(localTarget, CHAIN_MARKER_DIR, token, { netns: ns, inode: inode.inode, family: 4, table: "filter", name: "FILTERS" });
            await owned("IptablesChain", `${ns}/-N FILTERS`);
            await removeMarker(localTarget, CHAIN_MARKER_DIR, token);
            assert.equal((await importInputs(localTarget, "IptablesChain", `${ns}/-N FILTERS`)).id, `${ns}/-N FILTERS`, "importable again once the marker is gone");
        } finally {
            await sh(["ip", "link", "del", br2]);
            await sh(inNs(ns, ["iptables", "-D", "FORWARD", "-i", "eth0", "-m", "comment", "--comment", token, "-j", "ACCEPT"])).catch(() => undefined);
            await sh(["ip", "-n", ns, "route", "del", "10.77.0.0/16"]).catch(() => undefined);
        }
    });
});

describePrivileged("scan/import: an object the import itself has marked (its preview's read, or an import run again) found as before", function () {
    this.timeout(60000);
    const ns = freshNetnsName("imo");
    const br = uniqueIfName("mbr");
    const veth = uniqueIfName("mv");
    const { masquerade, forward, script } = handMade(ns, br, veth);
    const etc = `/etc/netns/${ns}`;
    /** The owner token of the resource being imported, and another resource's. */
    const T = "pulumi-netns:00112233445566aa";
    const OTHER = "pulumi-netns:ffeeddccbbaa9988";
    /** Every object of the script, by kind and import id. */
    const objects: [string, string][] = [
        ["Netns", ns], ["Bridge", br], ["VethPair", veth], ["Route", `${ns}/default`],
        ["MasqueradeRule", `-t nat -A POSTROUTING -s 10.231.0.0/24 ! -o ${br} -j MASQUERADE`], ["ForwardRule", `-A FORWARD -i ${br} -j ACCEPT`],
        ["IptablesChain", `${ns}/-N FILTERS`], ["IptablesRule", `${ns}/-A INPUT -j FILTERS`], ["IptablesRule", `${ns}/-A FILTERS -s 192.0.2.0/24 -p tcp -m tcp --dport 22 -j ACCEPT`],
        ["IptablesRule", `${ns}/-6 -A INPUT -p tcp -j DROP`], ["ChainPolicy", `${ns}/-P FORWARD DROP`], ["SysctlForward", `${ns}/net.ipv4.ip_forward`],
    ];
    /** What the import's create made of each (to delete it after, as a destroy would). */
    const made: { kind: string; id: string; outs: Record<string, unknown> }[] = [];

    before(async () => {
        assertSandbox();
        for (const argv of script) await sh(argv);
        // The namespace's /etc files, written by hand: an adopting Netns rewrites them with its token on the first line.
        fs.mkdirSync(etc, { recursive: true });
        fs.writeFileSync(`${etc}/resolv.conf`, "nameserver 192.0.2.53\nsearch lab.example\n");
        fs.writeFileSync(`${etc}/hosts`, "127.0.0.1\tlocalhost\n192.0.2.10\tgw gw.lab.example\n");
    });

    after(async () => {
        for (const m of made.reverse()) await kinds[m.kind as keyof typeof kinds].provider.delete!(m.id, m.outs).catch(() => undefined);
        const comment = ["-m", "comment", "--comment", T];
        for (const rule of [masquerade, forward]) {
            const del = rule.map((a) => (a === "-A" ? "-D" : a));
            await sh(["iptables", ...del]).catch(() => undefined);
            await sh(["iptables", ...del.slice(0, -2), ...comment, ...del.slice(-2)]).catch(() => undefined);
        }
        await sh(["ip", "netns", "del", ns]).catch(() => undefined);
        await sh(["ip", "link", "del", br]).catch(() => undefined);
        fs.rmSync(etc, { recursive: true, force: true });
    });

    it("declares an object carrying the import's own token (a route: proto 250) as before it was marked, with the same id; another token's is refused", async () => {
        // Before: the inputs and id of each object as the script left it.
        const before = new Map<string, { id: string; inputs: Record<string, unknown> }>();
        for (const [kind, id] of objects) before.set(id, await importInputs(localTarget, kind, id));
        assert.deepEqual(before.get(ns)!.inputs, { name: ns, loopbackUp: false, dns: { nameservers: ["192.0.2.53"], search: ["lab.example"] }, hosts: { "192.0.2.10": ["gw", "gw.lab.example"] } });

        // The import's read: check and create with adopt, as the plugin does, each marked as T's.
        for (const [kind, id] of objects) {
            const p = kinds[kind as keyof typeof kinds].provider;
            const checked = await p.check!({}, { ...before.get(id)!.inputs, adopt: true, owner: T, [RESOURCE_NAME]: `${kind} "${id}"` });
            assert.deepEqual(checked.failures ?? [], [], `${kind} ${id}`);
            const { id: createdId, outs } = await p.create(checked.inputs);
            made.push({ kind, id: createdId, outs });
        }
        // Each carries its marker now.
        assert.equal(JSON.parse(await sh(["ip", "-j", "link", "show", br]))[0].ifalias, T);
        assert.equal(JSON.parse(await sh(["ip", "-n", ns, "-j", "link", "show", "eth0"]))[0].ifalias, T);
        assert.equal(JSON.parse(await sh(["ip", "-n", ns, "-j", "route", "show", "default"]))[0].protocol, "250");
        assert.match(await sh(["iptables", "-t", "nat", "-S", "POSTROUTING"]), new RegExp(`-s 10\\.231\\.0\\.0/24 ! -o ${br} -m comment --comment "?${T}"? -j MASQUERADE`));
        assert.match(await sh(inNs(ns, ["iptables", "-S", "FILTERS"])), new RegExp(`--dport 22 -m comment --comment "?${T}"? -j ACCEPT`));
        assert.match(fs.readFileSync(`${etc}/resolv.conf`, "utf8"), new RegExp(`^# ${T} `));

        for (const [kind, id] of objects) {
            // With its own token: found and declared exactly as before it was marked.
            assert.deepEqual(await importInputs(localTarget, kind, id, { owner: T }), before.get(id), `${kind} ${id} with its own token`);
            // Without one, or with another's: a stack owns it. A route carries no token: with any, proto 250 is taken as the
            // import's own, and its device, eth0, carrying another resource's token, is that resource's (as under
            // `pulumi import --file`, where the veth was imported before the route through it).
            const owned = (marker: string) => (err: Error) => {
                assert.match(err.message, new RegExp(`^cannot import netns:index:${kind} .*: it is already owned by a stack \\(it carries the pulumi-netns marker ${marker}\\)`));
                return true;
            };
            await assert.rejects(importInputs(localTarget, kind, id), owned(kind === "Route" ? "proto 250" : T), `${kind} ${id} without a token`);
            if (kind === "Route") assert.deepEqual(await importInputs(localTarget, kind, id, { owner: OTHER }), before.get(id), `${kind} ${id} with another token`);
            else await assert.rejects(importInputs(localTarget, kind, id, { owner: OTHER }), owned(T), `${kind} ${id} with another token`);
        }
        // `pulumi-netns scan` is unchanged: it leaves out the marked links, route and rules.
        const decls = declare(await scanHost(localTarget, [ns]));
        assert.deepEqual(decls.filter((d) => ["Bridge", "VethPair", "Route", "MasqueradeRule", "ForwardRule", "IptablesRule"].includes(d.kind) && JSON.stringify(d.inputs).includes(br)), []);
    });
});
