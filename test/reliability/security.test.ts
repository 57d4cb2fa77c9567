/**
 * Security: every spawned argv (and every line fed to `ip -batch`) is made only of fixed
 * keywords and the validated inputs; no shell; deletes name exactly one object and never flush
 * or use wildcards; ownership is checked before every modify or delete; nothing from the
 * environment reaches the state.
 */
import { strict as assert } from "assert";
import { handlers } from "../../provider/handlers";
import { observeCommands } from "../../provider/linux/exec";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, links, routes, sh, iptablesSave } from "../helpers/kernel";
import { destroy, make, Made, read } from "../helpers/provider";
import { networkOf, parsePrefix } from "../../provider/core/ip";

const BINARIES = new Set(["ip", "iptables", "ip6tables", "sysctl"]);
/** Every fixed word pulumi-netns puts in a command. */
const VOCAB = new Set(
    (
        "ip iptables ip6tables sysctl lo -n -4 -6 -json -details -batch - link add name address mtu netns type veth peer bridge delete dev show set alias master " +
        "nomaster up down nodad route replace table metric via src proto exact 250 main local exec -q -w -t nat filter -C -A -I -D -S -V 1 " +
        "POSTROUTING FORWARD -s -d -i -o ! -m comment --comment conntrack --ctstate RELATED,ESTABLISHED -j MASQUERADE ACCEPT default " +
        "net.ipv4.ip_forward net.ipv6.conf.all.forwarding net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 " +
        "net.ipv4.ip_forward=0 net.ipv6.conf.all.forwarding=0 " +
        "macvlan mode vxlan id remote group dstport PREROUTING OUTPUT -p tcp udp addrtype --dst-type LOCAL --dport DNAT --to-destination"
    ).split(" "),
);

/**
 * Words a resource builds from its validated inputs by a fixed rule, and nothing else: a
 * PortForward's `TO:PORT` (`[TO]:PORT` for IPv6), `HOST/32` (`/128`), and its hairpin LAN's network and `TO/32`.
 */
function derived(kind: string, a: Record<string, any>): string[] {
    if (kind !== "PortForward") return [];
    const [to, len] = String(a.toAddress).split("/");
    const six = to.includes(":");
    const bits = six ? 128 : 32;
    const port = String(a.toPort ?? a.hostPort);
    const lan = len === undefined ? [] : [networkOf(parsePrefix(a.toAddress)!)];
    return [six ? `[${to}]:${port}` : `${to}:${port}`, `${to}/${bits}`, ...(a.hostAddress ? [`${a.hostAddress}/${bits}`] : []), ...lan];
}

/** Every string and number in the validated inputs and outputs (names, addresses, owner token, MACs). */
function values(...objs: Record<string, unknown>[]): Set<string> {
    const out = new Set<string>();
    const walk = (v: unknown) => {
        if (typeof v === "string" || typeof v === "number") out.add(String(v));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === "object") Object.values(v).forEach(walk);
    };
    objs.forEach(walk);
    return out;
}

/** Records argv and stdin of everything run by fn. */
async function record(fn: () => Promise<unknown>): Promise<{ argv: string[]; input?: string }[]> {
    const seen: { argv: string[]; input?: string }[] = [];
    observeCommands((argv, input) => seen.push({ argv, input }));
    try {
        await fn();
    } finally {
        observeCommands();
    }
    return seen;
}

const MODIFYING = /^(add|delete|set|replace|change|flush)$|^-[ADIFXPZNRE]$|=/;

describePrivileged("reliability: security", function () {
    let n: string;
    before(async () => {
        n = freshNetnsName("s");
        await sh(["ip", "netns", "add", n]);
    });
    after(async () => sh(["ip", "netns", "del", n]));

    it("every argv and batch line is fixed keywords plus validated inputs; no shell; deletes are exact", async () => {
        const odd = { a: "a.b_c-d@e+f", b: "x+y@z.1" }; // every character a name may hold
        const made: Made[] = [];
        const all: { argv: string[]; input?: string }[] = [];
        const steps: [Made["kind"], Record<string, unknown>][] = [
            ["Netns", { name: `${n}.inner@x+y_z-1` }],
            ["Bridge", { name: odd.b, netns: n, addresses: ["10.60.0.1/24", "fd60::1/64"], mtu: 1400 }],
            ["VethPair", { name: odd.a, peerName: "e.1", peerNetns: n, peerMaster: odd.b, addresses: ["10.61.0.1/24"], mtu: 1300 }],
            ["Route", { destination: "10.62.0.0/16", gateway: "10.60.0.9", netns: n, metric: 7, table: 100, source: "10.60.0.1" }],
            ["MasqueradeRule", { source: "10.60.0.0/24", excludeOutInterface: odd.b, destination: "10.0.0.0/8", netns: n }],
            ["ForwardRule", { inInterface: odd.a, outInterface: odd.b, source: "fd60::/64", established: true, netns: n }],
            ["SysctlForward", { netns: n, ipv6: true }],
            ["Macvlan", { name: "m.v@1+x", parent: odd.a, netns: n, mode: "private", addresses: ["10.63.0.1/24", "fd63::1/64"], mtu: 1280 }],
            ["Vxlan", { name: "x.v@1+y", vni: 16777215, local: "10.61.0.1", remote: "10.61.0.2", dstPort: 65535, device: odd.a, addresses: ["10.64.0.1/24"] }],
            ["Vxlan", { name: "g.v@2+y", vni: 1, group: "ff05::1:3", dstPort: 1, device: "e.1", master: odd.b, netns: n }],
            ["PortForward", { protocol: "tcp", hostPort: 65535, hostAddress: "10.60.0.1", toAddress: "10.60.0.77/24", toPort: 1, netns: n }],
            ["PortForward", { protocol: "udp", hostPort: 1, toAddress: "fd60::77", netns: n }],
        ];
        for (const [kind, a] of steps) {
            let m!: Made;
            const cmds = await record(async () => {
                m = await make(kind, "sec", a);
                await read(m);
                await handlers[kind].update!(m.id, m.outs, m.inputs);
            });
            made.push(m);
            for (const c of cmds) (c as any).allowed = new Set([...values(m.inputs, m.outs), ...derived(kind, m.inputs)]);
            all.push(...cmds);
        }
        const deletes = await record(async () => {
            for (const m of [...made].reverse()) await destroy(m);
        });
        for (const c of deletes) (c as any).allowed = new Set([...values(...made.map((m) => m.outs)), ...made.flatMap((m) => derived(m.kind, m.inputs))]);
        all.push(...deletes);

        for (const c of [...all]) {
            const allowed: Set<string> = (c as any).allowed;
            assert.ok(BINARIES.has(c.argv[0]), `no shell or other program: ${JSON.stringify(c.argv)}`);
            const words = [...c.argv.slice(1), ...(c.input ?? "").split(/\s+/).filter(Boolean)];
            for (const w of words) assert.ok(VOCAB.has(w) || allowed.has(w), `${JSON.stringify(w)} in ${JSON.stringify(c)} is neither a keyword nor a validated input`);
        }
        // Deletes name one object each: never a flush, a chain-wide -F/-X, a policy change or a wildcard.
        for (const c of all) {
            assert.ok(!c.argv.some((a) => /^(-F|-X|-P|-Z|flush|all)$/.test(a) || a.includes("*")), JSON.stringify(c.argv));
            if (c.argv.includes("-D")) assert.ok(c.argv.includes("--comment"), `an iptables delete names the whole rule with its owner: ${c.argv}`);
            if (c.argv.includes("route") && c.argv.includes("delete")) assert.deepEqual(c.argv.slice(-2), ["proto", "250"]);
        }
        console.log(`      ${all.length} commands checked word by word`);
    });

    it("checks ownership before every modify or delete: objects whose marker changed are left alone", async () => {
        const br = await make("Bridge", "own", { name: "obr0", netns: n, addresses: ["10.70.0.1/24"] });
        const veth = await make("VethPair", "own", { name: "ov0", peerName: "ov1", peerNetns: n });
        const route = await make("Route", "own", { destination: "10.71.0.0/24", device: "obr0", netns: n });
        const ns = await make("Netns", "own", { name: freshNetnsName("o") });
        const mv = await make("Macvlan", "own", { name: "omv0", parent: "ov0", netns: n });
        const vx = await make("Vxlan", "own", { name: "ovx0", vni: 77, remote: "10.70.0.9", netns: n, master: "obr0" });
        const pf = await make("PortForward", "own", { protocol: "tcp", hostPort: 7070, toAddress: "10.70.0.5", netns: n });
        // Someone takes them over: new alias on the links, a route re-made without proto 250, the namespace re-made.
        await sh(["ip", "-n", n, "link", "set", "obr0", "alias", "theirs"]);
        await sh(["ip", "link", "set", "ov0", "alias", "theirs"]);
        await sh(["ip", "-n", n, "link", "set", "ov1", "alias", "theirs"]);
        await sh(["ip", "-n", n, "route", "replace", "10.71.0.0/24", "dev", "obr0", "proto", "static"]);
        await sh(["ip", "netns", "del", ns.outs.name]);
        await sh(["ip", "netns", "add", ns.outs.name]);
        await sh(["ip", "-n", n, "link", "set", "omv0", "alias", "theirs"]);
        await sh(["ip", "-n", n, "link", "set", "ovx0", "alias", "theirs"]);
        // The forward's rules re-made with another comment (someone else's).
        for (const rule of pf.outs.rules as string[]) {
            const args = rule.replace(/"/g, "").split(/\s+/);
            await sh(["ip", "netns", "exec", n, "iptables", "-w", "-t", "nat", "-D", ...args.slice(1)]);
            await sh(["ip", "netns", "exec", n, "iptables", "-w", "-t", "nat", "-A", ...args.slice(1).map((a) => (a === pf.inputs.owner ? "theirs" : a))]);
        }
        const brief = (ls: Awaited<ReturnType<typeof links>>) => ls.map((l) => [l.ifname, l.ifalias, l.flags, l.mtu, l.master, l.address]);
        const state = async () => JSON.stringify([brief(await links()), brief(await links(n)), await routes(n), brief(await links(ns.outs.name)), await iptablesSave(n)]);
        const was = await state();
        const cmds = await record(async () => {
            for (const m of [mv, vx, br, veth, route, ns, pf]) {
                assert.equal((await read(m)).id, "", `${m.kind}: read as gone`);
                // A PortForward's update only re-comments its rules (a new owner, sudo or connection): not for rules it no longer has.
                if (m.kind !== "PortForward") await assert.rejects(handlers[m.kind].update!(m.id, m.outs, m.inputs), /no longer carries|gone/);
                await destroy(m);
            }
        });
        assert.equal(await state(), was, "nothing foreign modified");
        const writes = cmds.filter((c) => c.argv.some((a) => MODIFYING.test(a)) && !(c.argv.includes("route") && c.argv.includes("delete")));
        assert.deepEqual(writes.map((c) => c.argv), [], "only reads ran");
        // A route delete always carries `proto 250`, which the kernel matches: the static route survived it.
        assert.ok((await routes(n)).some((r) => r.dst === "10.71.0.0/24" && r.protocol === "static"));
        await sh(["ip", "netns", "del", ns.outs.name]);
        await sh(["ip", "-n", n, "link", "del", "omv0"]);
        await sh(["ip", "-n", n, "link", "del", "ovx0"]);
        await sh(["ip", "-n", n, "link", "del", "obr0"]);
        assert.match(await iptablesSave(n), /--comment theirs/);
        for (const rule of pf.outs.rules as string[]) {
            await sh(["ip", "netns", "exec", n, "iptables", "-w", "-t", "nat", "-D", ...rule.replace(/"/g, "").split(/\s+/).slice(1).map((a) => (a === pf.inputs.owner ? "theirs" : a))]);
        }
        await sh(["ip", "link", "del", "ov0"]);
    });

    it("writes nothing from the environment into state", async () => {
        process.env.PULUMI_NETNS_CANARY = "canary-5f3a9c-secret";
        try {
            const outs = [
                await make("Bridge", "env", { name: "ebr0", netns: n }),
                await make("MasqueradeRule", "env", { source: "10.80.0.0/16", netns: n }),
                await make("SysctlForward", "env", { netns: n }),
            ];
            const text = JSON.stringify(outs.map((m) => m.outs));
            for (const v of [process.env.PULUMI_NETNS_CANARY, process.env.HOME, process.env.PATH, process.env.PWD]) {
                if (v) assert.ok(!text.includes(v), `state must not contain ${v}`);
            }
            for (const m of outs.reverse()) await destroy(m);
            assert.doesNotMatch(await iptablesSave(n), /pulumi-netns/);
        } finally {
            delete process.env.PULUMI_NETNS_CANARY;
        }
    });
});
