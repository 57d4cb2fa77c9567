/**
 * `adopt: true` against the kernel, per kind: an object made by hand (as scripts do)
 * that matches its declaration is taken over by writing only the marker (the kernel's view is the
 * same before and after, the marker aside); one that differs fails listing each difference and is
 * left exactly as it was; one owned by another resource is refused; one that does not exist is created.
 */
import { strict as assert } from "assert";
import { freshNetnsName, ipArgs, iptablesSave, routes, sh, sysctl } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { destroy, make, read, rejection } from "../helpers/provider";

/** What the kernel says of a namespace's links (without aliases: the marker) and routes (without the proto: the marker). */
async function view(netns?: string): Promise<string> {
    const ls = JSON.parse(await sh([...ipArgs(netns), "-json", "-d", "address", "show"])) as any[];
    const rs = JSON.parse(await sh([...ipArgs(netns), "-json", "route", "show", "table", "all"])) as any[];
    return JSON.stringify({
        links: ls.map((l) => ({
            name: l.ifname, index: l.ifindex, peer: l.link_index, flags: l.flags, mtu: l.mtu, master: l.master, mac: l.address, kind: l.linkinfo?.info_kind,
            addresses: (l.addr_info ?? []).filter((a: any) => a.scope !== "link").map((a: any) => `${a.local}/${a.prefixlen}`),
        })),
        routes: rs.filter((r) => !String(r.dst).startsWith("fe80") && r.type !== "multicast").map(({ protocol: _p, ...r }) => r),
    });
}

describePrivileged("core/adopt: taking over what a script made", () => {
    let ns: string;
    beforeEach(async () => {
        ns = freshNetnsName("ad");
        await sh(["ip", "netns", "add", ns]);
        await sh(["ip", "-n", ns, "link", "set", "lo", "up"]);
    });
    afterEach(async () => {
        await sh(["ip", "netns", "del", ns]).catch(() => undefined);
        await sh(["ip", "link", "del", "adv0"]).catch(() => undefined);
        await sh(["ip", "link", "del", "adbr0"]).catch(() => undefined);
    });

    it("Netns, VethPair, Bridge, Route: a match gets only its marker, then behaves like any other resource", async () => {
        // Blue behind br0, by hand.
        for (const argv of [
            ["ip", "link", "add", "adv0", "type", "veth", "peer", "name", "adv1"],
            ["ip", "link", "set", "adv1", "netns", ns],
            ["ip", "-n", ns, "addr", "add", "10.31.1.1/16", "dev", "adv1"],
            ["ip", "-n", ns, "link", "set", "adv1", "up"],
            ["ip", "addr", "add", "10.31.1.2/16", "dev", "adv0"],
            ["ip", "link", "add", "adbr0", "type", "bridge"],
            ["ip", "link", "set", "adbr0", "up"],
            ["ip", "link", "set", "adv0", "master", "adbr0", "up"],
            ["ip", "addr", "add", "10.31.1.3/16", "dev", "adbr0"],
            ["ip", "-n", ns, "route", "add", "default", "via", "10.31.1.3"],
        ]) await sh(argv);
        const before = [await view(), await view(ns)];
        const made = [
            await make("Netns", "n", { name: ns, adopt: true }),
            await make("Bridge", "b", { name: "adbr0", addresses: ["10.31.1.3/16"], adopt: true }),
            await make("VethPair", "v", { name: "adv0", addresses: ["10.31.1.2/16"], master: "adbr0", peerName: "adv1", peerNetns: ns, peerAddresses: ["10.31.1.1/16"], adopt: true }),
            await make("Route", "r", { destination: "default", gateway: "10.31.1.3", netns: ns, adopt: true }),
        ];
        assert.deepEqual([await view(), await view(ns)], before, "nothing but markers changed");
        assert.equal((await routes(ns)).find((r) => r.dst === "default")?.protocol, "250");
        for (const m of made) assert.deepEqual((await read(m)).props, m.outs, `${m.kind}: refresh after adoption is clean`);
        for (const m of made.reverse()) await destroy(m);
        assert.ok(!(await sh(["ip", "netns", "list"])).includes(ns), "adopted, then deleted like any other");
    });

    it("a mismatch fails listing each difference and changes nothing, one test per kind", async () => {
        await sh(["ip", "link", "add", "adv0", "type", "veth", "peer", "name", "adv1", "netns", ns]);
        await sh(["ip", "addr", "add", "10.32.0.1/24", "dev", "adv0"]);
        await sh(["ip", "link", "add", "adbr0", "type", "bridge"]);
        await sh(["ip", "-n", ns, "link", "set", "lo", "down"]);
        await sh(["ip", "route", "add", "10.33.0.0/24", "dev", "lo", "metric", "7"]);
        const before = [await view(), await view(ns)];
        const cases: [string, Parameters<typeof make>, RegExp][] = [
            ["Netns", ["Netns", "n", { name: ns, adopt: true }], /cannot adopt namespace "ad[^"]+": it differs from the declaration \(loopbackUp: declared true, found false\)\. Nothing was changed/],
            ["VethPair", ["VethPair", "v", { name: "adv0", addresses: ["10.32.0.2/24"], peerName: "adv1", peerNetns: ns, adopt: true }],
                /cannot adopt veth pair "adv0"\/"adv1": it differs from the declaration \(addresses: declared \["10\.32\.0\.2\/24"\], found \["10\.32\.0\.1\/24"\]; up: declared true, found false; up \(of adv1\): declared true, found false\)/],
            ["Bridge", ["Bridge", "b", { name: "adbr0", addresses: ["10.34.0.1/24"], adopt: true }], /cannot adopt bridge "adbr0" in the root namespace: it differs from the declaration \(addresses: declared \["10\.34\.0\.1\/24"\], found \[\]; up: declared true, found false\)/],
            ["Route", ["Route", "r", { destination: "10.33.0.0/24", gateway: "10.32.0.9", metric: 7, adopt: true }], /cannot adopt the route to 10\.33\.0\.0\/24 in the root namespace: it differs from the declaration \(gateway: declared "10\.32\.0\.9", found nothing\)/],
            ["SysctlForward", ["SysctlForward", "s", { netns: ns, adopt: true }], /cannot adopt forwarding in namespace "ad[^"]+": it differs from the declaration \(ipv4: declared true, found false\)/],
        ];
        for (const [kind, args, message] of cases) { const m = (await rejection(make(...args))).message; assert.match(m, message, `${kind}: ${m}`); }
        assert.deepEqual([await view(), await view(ns)], before, "nothing changed");
        assert.equal(await sysctl("net.ipv4.ip_forward", ns), "0");
        assert.doesNotMatch(await sh(["ip", "-d", "link", "show", "adv0"]), /alias/);
        await sh(["ip", "route", "del", "10.33.0.0/24", "dev", "lo", "metric", "7"]);
    });

    it("rules and sysctls: a script's rule is replaced in place by its commented copy, ip_forward already on is taken as it is", async () => {
        await sh(["ip", "netns", "exec", ns, "iptables", "-w", "-A", "FORWARD", "-i", "other0", "-j", "DROP"]);
        await sh(["ip", "netns", "exec", ns, "iptables", "-w", "-A", "FORWARD", "-i", "br0", "-j", "ACCEPT"]);
        await sh(["ip", "netns", "exec", ns, "iptables", "-w", "-A", "FORWARD", "-o", "other0", "-j", "DROP"]);
        await sh(["ip", "netns", "exec", ns, "iptables", "-w", "-t", "nat", "-A", "POSTROUTING", "-s", "10.35.0.0/24", "!", "-o", "br0", "-j", "MASQUERADE"]);
        await sh(["ip", "netns", "exec", ns, "sysctl", "-qw", "net.ipv4.ip_forward=1"]);
        const fwd = await make("ForwardRule", "f", { inInterface: "br0", netns: ns, adopt: true });
        const masq = await make("MasqueradeRule", "m", { source: "10.35.0.0/24", excludeOutInterface: "br0", netns: ns, adopt: true });
        const fw = await make("SysctlForward", "s", { netns: ns, adopt: true });
        const forward = (await iptablesSave(ns)).split("\n").filter((l) => l.startsWith("-A FORWARD"));
        assert.deepEqual(forward, ["-A FORWARD -i other0 -j DROP", `-A FORWARD -i br0 -m comment --comment "${fwd.outs.owner}" -j ACCEPT`, "-A FORWARD -o other0 -j DROP"], "in the same place, one copy");
        assert.match(await iptablesSave(ns), new RegExp(`-A POSTROUTING -s 10\\.35\\.0\\.0/24 ! -o br0 -m comment --comment "${masq.outs.owner}" -j MASQUERADE`));
        assert.equal(fw.outs.previousIpv4, 1, "the value found is the one to restore");
        for (const m of [fw, masq, fwd]) await destroy(m);
        assert.equal(await sysctl("net.ipv4.ip_forward", ns), "1", "delete left forwarding as it found it");
        assert.deepEqual((await iptablesSave(ns)).split("\n").filter((l) => l.startsWith("-A FORWARD")), ["-A FORWARD -i other0 -j DROP", "-A FORWARD -o other0 -j DROP"], "other rules untouched");
    });

    it("Macvlan, Vxlan, PortForward: a match gets only its markers; a tunnel, parent or mode that differs fails naming it and changes nothing", async () => {
        await sh(["ip", "link", "add", "adv0", "type", "veth", "peer", "name", "adv1", "netns", ns]);
        await sh(["ip", "-n", ns, "addr", "add", "10.36.0.1/24", "dev", "adv1"]);
        await sh(["ip", "link", "add", "link", "adv0", "name", "admv0", "netns", ns, "type", "macvlan", "mode", "private"]);
        await sh(["ip", "-n", ns, "link", "add", "advx0", "type", "vxlan", "id", "300", "local", "10.36.0.1", "remote", "10.36.0.2", "dev", "adv1", "dstport", "8472"]);
        await sh(["ip", "-n", ns, "addr", "add", "10.37.0.1/24", "dev", "advx0"]);
        for (const l of ["adv1", "admv0", "advx0"]) await sh(["ip", "-n", ns, "link", "set", l, "up"]);
        for (const chain of ["PREROUTING", "OUTPUT"]) {
            await sh(["ip", "netns", "exec", ns, "iptables", "-w", "-t", "nat", "-A", chain, "-p", "udp", "-m", "addrtype", "--dst-type", "LOCAL", "--dport", "53", "-j", "DNAT", "--to-destination", "10.37.0.2:5353"]);
        }
        const before = [await view(), await view(ns), await iptablesSave(ns)];
        const mismatches: [Parameters<typeof make>, RegExp][] = [
            [["Macvlan", "m", { name: "admv0", parent: "adv0", netns: ns, adopt: true }], /cannot adopt macvlan "admv0" in namespace "ad[^"]+": it differs from the declaration \(mode: declared "bridge", found "private"\)/],
            [["Macvlan", "m", { name: "admv0", parent: "lo", mode: "private", netns: ns, adopt: true }], /\(parent: declared "lo", found "adv0"\)/],
            [["Vxlan", "x", { name: "advx0", vni: 301, local: "10.36.0.1", remote: "10.36.0.3", device: "adv1", netns: ns, addresses: ["10.37.0.1/24"], adopt: true }],
                /cannot adopt vxlan "advx0" in namespace "ad[^"]+": it differs from the declaration \(vni: declared 301, found 300; remote: declared "10\.36\.0\.3", found "10\.36\.0\.2"; dstPort: declared 4789, found 8472\)/],
        ];
        for (const [args, message] of mismatches) { const m = (await rejection(make(...args))).message; assert.match(m, message, m); }
        assert.deepEqual([await view(), await view(ns), await iptablesSave(ns)], before, "nothing changed");

        const made = [
            await make("Macvlan", "m", { name: "admv0", parent: "adv0", mode: "private", netns: ns, adopt: true }),
            await make("Vxlan", "x", { name: "advx0", vni: 300, local: "10.36.0.1", remote: "10.36.0.2", dstPort: 8472, device: "adv1", netns: ns, addresses: ["10.37.0.1/24"], adopt: true }),
            await make("PortForward", "p", { protocol: "udp", hostPort: 53, toAddress: "10.37.0.2", toPort: 5353, netns: ns, adopt: true }),
        ];
        const unmarked = (t: string) => t.replace(/ -m comment --comment "?pulumi-netns:[0-9a-f]{16}"?/g, "");
        assert.deepEqual([await view(), await view(ns), unmarked(await iptablesSave(ns))], before, "only markers written");
        assert.equal((await iptablesSave(ns)).split("\n").filter((l) => l.includes(made[2].outs.owner)).length, 2, "both DNATs carry the comment, in place");
        for (const l of ["admv0", "advx0"]) assert.match(await sh(["ip", "-n", ns, "-d", "link", "show", l]), /alias pulumi-netns:/);
        for (const m of made) assert.deepEqual((await read(m)).props, m.outs, `${m.kind}: refresh after adoption is clean`);
        for (const m of made.reverse()) await destroy(m);
        assert.doesNotMatch(await iptablesSave(ns), /DNAT/);
    });

    it("refuses an object another resource owns, and creates one that does not exist", async () => {
        const theirs = await make("Bridge", "theirs", { name: "adbr0" });
        assert.match((await rejection(make("Bridge", "mine", { name: "adbr0", adopt: true }))).message, /link "adbr0" already exists in the root namespace and belongs to Bridge "theirs" of this stack/);
        await destroy(theirs);
        const fresh = await make("Bridge", "mine", { name: "adbr0", adopt: true });
        assert.equal(fresh.outs.mac, (JSON.parse(await sh(["ip", "-json", "link", "show", "adbr0"])) as any[])[0].address);
        await destroy(fresh);
    });
});
