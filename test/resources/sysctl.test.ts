import { strict as assert } from "assert";
import { sysctlForwardProvider as p } from "../../provider/resources/sysctl";
import { sh, sysctl, withFreshNetns } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { Host, PROVIDER_KEY, serializedProviderOf, startHost, urn } from "../helpers/host";
import { describePrivileged } from "../helpers/sandbox";

const O = owner("SysctlForward", "t1");
const V4 = "net.ipv4.ip_forward";
const V6 = "net.ipv6.conf.all.forwarding";

describe("resources/sysctl: check and diff (no commands)", () => {
    it("leaves defaults out of the state, validates and runs nothing", async () => {
        const cmds = await commandsDuring(async () => {
            assert.deepEqual(await checked(p, { owner: O }), { owner: O });
            assert.deepEqual(await checked(p, { ipv4: true, owner: O }), { ipv4: true, owner: O }, "a default the program gives is kept");
            assert.deepEqual(await failedProperties(p, { ipv4: false, owner: O }), ["ipv4"]);
            assert.deepEqual(await failedProperties(p, { ipv4: "yes", netns: "a/b", owner: O }), ["ipv4", "netns"]);
            assert.deepEqual(await failedProperties(p, { forward: true, owner: O }), ["forward"]);
            const o = { ipv4: true, ipv6: false, restoreOnDelete: true, owner: O, previousIpv4: 0 };
            assert.deepEqual(await p.diff!("x", o, { ...o, netns: "n" }), { changes: true, replaces: ["netns"], deleteBeforeReplace: true });
            assert.deepEqual(await p.diff!("x", o, { ...o, ipv6: true, restoreOnDelete: false }), { changes: true, replaces: [], deleteBeforeReplace: true });
            assert.deepEqual(await p.diff!("x", o, { ipv4: true, ipv6: false, restoreOnDelete: true, owner: O }), { changes: false, replaces: [], deleteBeforeReplace: true });
        });
        assert.deepEqual(cmds, []);
    });
});

describePrivileged("resources/sysctl: against the kernel", () => {
    const ns = withFreshNetns("fwd");
    const set = (key: string, v: string) => sh(["ip", "netns", "exec", ns.name, "sysctl", "-q", "-w", `${key}=${v}`]);

    it("turns forwarding on, reads drift, updates, restores 0 on delete, idempotently", async () => {
        const rootBefore = [await sysctl(V4), await sysctl(V6)];
        const inputs = await checked(p, { netns: ns.name, owner: O });
        const { id, outs } = await p.create(inputs);
        assert.equal(await sysctl(V4, ns.name), "1");
        assert.equal(await sysctl(V6, ns.name), "0");
        assert.deepEqual(outs, { ...inputs, ipv4: true, ipv6: false, restoreOnDelete: true, previousIpv4: 0 }, "the outputs hold every setting, defaults too");
        assert.deepEqual(await p.read!(id, outs), { id, props: outs });

        await set(V4, "0");
        const drifted = (await p.read!(id, outs)).props!;
        assert.equal(drifted.ipv4, false);
        assert.equal((await p.diff!(id, drifted, inputs)).changes, true);
        const { outs: repaired } = await p.update!(id, drifted, inputs);
        assert.equal(await sysctl(V4, ns.name), "1");
        assert.equal(repaired.previousIpv4, 0, "the value found at create is kept");

        // Turn IPv6 on as well, then IPv4 off (given back at once).
        const { outs: both } = await p.update!(id, outs, { ...inputs, ipv6: true });
        assert.deepEqual([await sysctl(V4, ns.name), await sysctl(V6, ns.name)], ["1", "1"]);
        assert.equal(both.previousIpv6, 0);
        const { outs: only6 } = await p.update!(id, both, { ...inputs, ipv4: false, ipv6: true });
        assert.deepEqual([await sysctl(V4, ns.name), await sysctl(V6, ns.name)], ["0", "1"]);
        assert.ok(!("previousIpv4" in only6));

        await p.delete!(id, only6);
        assert.deepEqual([await sysctl(V4, ns.name), await sysctl(V6, ns.name)], ["0", "0"]);
        await p.delete!(id, only6);
        assert.deepEqual([await sysctl(V4, ns.name), await sysctl(V6, ns.name)], ["0", "0"]);
        assert.deepEqual([await sysctl(V4), await sysctl(V6)], rootBefore, "the sandbox root is untouched");
    });

    it("leaves forwarding on at delete when it was already on", async () => {
        await set(V4, "1");
        const inputs = await checked(p, { netns: ns.name, owner: O });
        const { id, outs } = await p.create(inputs);
        assert.equal(outs.previousIpv4, 1);
        await p.delete!(id, outs);
        assert.equal(await sysctl(V4, ns.name), "1");
    });

    it("keeps forwarding on at delete when restoreOnDelete is false", async () => {
        const keep = await checked(p, { netns: ns.name, owner: O, restoreOnDelete: false });
        const r = await p.create(keep);
        await p.delete!(r.id, r.outs);
        assert.equal(await sysctl(V4, ns.name), "1");
    });

    it("treats a namespace that is gone as nothing to do, and explains missing IPv6", async () => {
        const outs = { netns: "gone-ns", ipv4: true, ipv6: false, restoreOnDelete: true, owner: O, previousIpv4: 0 };
        assert.deepEqual(await p.read!("x", outs), { id: "", props: {} });
        await p.delete!("x", outs);
        // IPv6 disabled at boot: no /proc/sys/net/ipv6 (simulated by hiding it in the sandbox's own mount namespace).
        await sh(["mount", "-t", "tmpfs", "hide-ipv6", "/proc/sys/net/ipv6"]);
        try {
            const inputs = await checked(p, { owner: O, ipv4: false, ipv6: true });
            await assert.rejects(p.create(inputs), /cannot enable ipv6 forwarding in the root namespace: \/proc\/sys\/net\/ipv6\/conf\/all\/forwarding does not exist \(is IPv6 disabled/);
        } finally {
            await sh(["umount", "/proc/sys/net/ipv6"]);
        }
    });
});

describePrivileged("resources/sysctl: over the dynamic-provider host (compiled dist/)", function () {
    this.timeout(60000);
    const ns = withFreshNetns("sysh");
    let host: Host;
    let prov: string;
    const u = urn("SysctlForward", "h1");
    before(async () => {
        prov = await serializedProviderOf("SysctlForward");
        host = await startHost();
    });
    after(async () => host?.stop());

    it("check, create, read, update and delete through gRPC", async () => {
        const bad = await host.check(u, {}, { [PROVIDER_KEY]: prov, ipv4: false, owner: O });
        assert.deepEqual(bad.failures.map((f) => f.property), ["ipv4"]);
        const { inputs } = await host.check(u, {}, { [PROVIDER_KEY]: prov, netns: ns.name, owner: O });
        const { id, outs } = await host.create(u, inputs);
        assert.equal(outs.previousIpv4, 0);
        assert.equal(await sysctl(V4, ns.name), "1");
        assert.deepEqual((await host.read(u, id, outs)).props, outs);
        const { outs: outs2 } = await host.update(u, id, outs, { ...inputs, ipv6: true });
        assert.equal(await sysctl(V6, ns.name), "1");
        await host.delete(u, id, outs2);
        assert.deepEqual([await sysctl(V4, ns.name), await sysctl(V6, ns.name)], ["0", "0"]);
    });
});
