/**
 * PortForward against the kernel, with real servers: a TCP server (python3's http.server) and a UDP
 * echo in a namespace behind a bridge, reached through the host's port from another "host" (a
 * namespace on a veth: PREROUTING), from the host itself (OUTPUT), and from the server's own LAN
 * (hairpin); after delete, no rule is left to capture the port.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import { portForwardProvider } from "../../provider/resources/portforward";
import { describePrivileged } from "../helpers/sandbox";
import { freshNetnsName, inNs, iptablesSave, sh, shOk, sysctl } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";

const O = owner("PortForward", "p");
const PY = "/usr/bin/python3";

describe("resources/portforward: check (no commands)", () => {
    it("refuses bad ports, protocols and addresses that are not host addresses, running nothing", async () => {
        const ok = { protocol: "tcp", hostPort: 8000, toAddress: "10.70.0.2", owner: O };
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(portForwardProvider, ok), ok);
            assert.deepEqual(await failedProperties(portForwardProvider, { ...ok, hostPort: 0, toPort: 65536 }), ["hostPort", "toPort"]);
            assert.deepEqual(await failedProperties(portForwardProvider, { ...ok, protocol: "sctp" }), ["protocol"]);
            for (const bad of ["10.70.0.0/24", "10.70.0.255/24", "224.0.0.5", "0.0.0.0", "10.70.0.300"]) {
                assert.deepEqual(await failedProperties(portForwardProvider, { ...ok, toAddress: bad }), ["toAddress"], bad);
            }
            assert.deepEqual(await failedProperties(portForwardProvider, { ...ok, hostAddress: "fd00::1" }), ["hostAddress"]);
        });
        assert.deepEqual(cmds, []);
    });
});

describePrivileged("resources/portforward: against the kernel, with real TCP and UDP servers", function () {
    this.timeout(60000);
    let srv: string, lan2: string, cli: string;
    const servers: ChildProcess[] = [];
    let forwarding = "0";
    let brNf: string | undefined;

    before(async () => {
        [srv, lan2, cli] = [freshNetnsName("ps"), freshNetnsName("pl"), freshNetnsName("pc")];
        forwarding = await sysctl("net.ipv4.ip_forward");
        // Where br_netfilter is loaded (Docker loads it), bridged frames go through iptables and conntrack,
        // which would undo hairpin NAT on the bridge by itself: off in this (sandbox) namespace, so the
        // hairpin rule is what makes it work, as on a host without that module.
        brNf = (await shOk(["sysctl", "-n", "net.bridge.bridge-nf-call-iptables"])) ? await sysctl("net.bridge.bridge-nf-call-iptables") : undefined;
        if (brNf !== undefined) await sh(["sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=0"]);
        const steps = [
            ["sysctl", "-qw", "net.ipv4.ip_forward=1"],
            ["ip", "link", "add", "br-pf", "type", "bridge"],
            ["ip", "addr", "add", "10.70.0.1/24", "dev", "br-pf"],
            ["ip", "link", "set", "br-pf", "up"],
            ["ip", "link", "add", "pfc0", "type", "veth", "peer", "name", "eth0", "netns", cli],
            ["ip", "addr", "add", "10.71.0.1/24", "dev", "pfc0"],
            ["ip", "link", "set", "pfc0", "up"],
            ["ip", "-n", cli, "addr", "add", "10.71.0.2/24", "dev", "eth0"],
            ["ip", "-n", cli, "link", "set", "eth0", "up"],
            ["ip", "-n", cli, "route", "add", "default", "via", "10.71.0.1"],
        ];
        for (const [ns, address, host] of [[srv, "10.70.0.2/24", "pfs0"], [lan2, "10.70.0.3/24", "pfl0"]]) {
            steps.push(
                ["ip", "link", "add", host, "type", "veth", "peer", "name", "eth0", "netns", ns],
                ["ip", "link", "set", host, "master", "br-pf", "up"],
                ["ip", "-n", ns, "addr", "add", address, "dev", "eth0"],
                ["ip", "-n", ns, "link", "set", "eth0", "up"],
                ["ip", "-n", ns, "link", "set", "lo", "up"],
                ["ip", "-n", ns, "route", "add", "default", "via", "10.70.0.1"],
            );
        }
        for (const n of [srv, lan2, cli]) await sh(["ip", "netns", "add", n]);
        for (const argv of steps) await sh(argv);
        servers.push(spawn("ip", ["netns", "exec", srv, PY, "-m", "http.server", "8080", "--bind", "10.70.0.2"], { stdio: "ignore" }));
        const echo = "import socket\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.bind(('10.70.0.2',9999))\nwhile True:\n d,a=s.recvfrom(2048)\n s.sendto(b'echo:'+d,a)\n";
        servers.push(spawn("ip", ["netns", "exec", srv, PY, "-c", echo], { stdio: "ignore" }));
        for (let i = 0; i < 50 && !(await shOk(["ip", "netns", "exec", srv, "ss", "-Hltn", "sport", "=", ":8080"]).then(async () => (await sh(["ip", "netns", "exec", srv, "ss", "-Hltn", "sport", "=", ":8080"])).includes("8080"))); i++) {
            await new Promise((r) => setTimeout(r, 100));
        }
    });
    after(async () => {
        for (const s of servers) s.kill("SIGKILL");
        for (const l of ["br-pf", "pfc0", "pfs0", "pfl0"]) await sh(["ip", "link", "del", l]).catch(() => undefined);
        for (const n of [srv, lan2, cli]) await sh(["ip", "netns", "del", n]).catch(() => undefined);
        await sh(["sysctl", "-qw", `net.ipv4.ip_forward=${forwarding}`]);
        if (brNf !== undefined) await sh(["sysctl", "-qw", `net.bridge.bridge-nf-call-iptables=${brNf}`]);
    });

    /** An HTTP GET from `ns` (undefined: the host itself); its status, or undefined when it fails. */
    const get = async (ns: string | undefined, url: string) => {
        const code = `import urllib.request,sys\ntry:\n print(urllib.request.urlopen(sys.argv[1], timeout=2).status)\nexcept Exception as e:\n print('failed', e)`;
        return (await sh(inNs(ns, [PY, "-c", code, url]))).trim();
    };
    /** A UDP datagram from `ns` to host:port, and the answer (or "no answer"). */
    const udp = async (ns: string, host: string, port: number) => {
        const code = `import socket,sys\ns=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\ns.settimeout(2)\ns.sendto(b'hi',(sys.argv[1],int(sys.argv[2])))\ntry:\n print(s.recv(100).decode())\nexcept Exception:\n print('no answer')`;
        return (await sh(inNs(ns, [PY, "-c", code, host, String(port)]))).trim();
    };

    it("TCP: from another host, from the host itself and from the server's own LAN (hairpin); refresh sees its rules; delete leaves none", async () => {
        assert.match(await get(cli, "http://10.71.0.1:8000/"), /^failed/, "nothing listens on the host's port before");
        const inputs = await checked(portForwardProvider, { protocol: "tcp", hostPort: 8000, toAddress: "10.70.0.2/24", toPort: 8080, owner: O });
        const { id, outs } = await portForwardProvider.create(inputs);
        assert.equal(await get(cli, "http://10.71.0.1:8000/"), "200", "from another host (PREROUTING)");
        assert.equal(await get(undefined, "http://10.71.0.1:8000/"), "200", "from the host itself (OUTPUT)");
        assert.equal(await get(lan2, "http://10.70.0.1:8000/"), "200", "from the server's own LAN (hairpin)");
        const save = await iptablesSave();
        for (const rule of outs.rules as string[]) assert.ok(save.includes(rule), `${rule} in iptables-save`);
        assert.equal((save.match(/pulumi-netns:/g) ?? []).length, 3);
        assert.deepEqual((await portForwardProvider.read!(id, outs)).props, outs);

        await portForwardProvider.delete!(id, outs);
        assert.doesNotMatch(await iptablesSave(), /pulumi-netns:/, "no rule left to capture the port");
        assert.match(await get(cli, "http://10.71.0.1:8000/"), /^failed/);
        await portForwardProvider.delete!(id, outs);
    });

    it("UDP: a real echo behind the host's port, only to the given host address", async () => {
        const inputs = await checked(portForwardProvider, { protocol: "udp", hostPort: 5353, hostAddress: "10.71.0.1", toAddress: "10.70.0.2", toPort: 9999, owner: owner("PortForward", "u") });
        const { id, outs } = await portForwardProvider.create(inputs);
        assert.equal(await udp(cli, "10.71.0.1", 5353), "echo:hi");
        assert.equal(await udp(lan2, "10.70.0.1", 5353), "no answer", "only the given hostAddress is forwarded");
        await portForwardProvider.delete!(id, outs);
        assert.doesNotMatch(await iptablesSave(), /pulumi-netns:/);
        assert.equal(await udp(cli, "10.71.0.1", 5353), "no answer");
    });
});
