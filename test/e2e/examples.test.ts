/**
 * Every example through the real Pulumi CLI (test/e2e/cli.ts), as a user runs it: `pulumi up` →
 * the example's pings answer, and its setup's check passes (packets counted through a tunnel, a file
 * fetched through a port forward, a rate limit measured) → `preview --expect-no-changes` passes → `refresh --expect-no-changes`
 * passes → drift made by hand (a peer address removed, MASQUERADE rules deleted, ip_forward reset,
 * a namespace's resolv.conf removed, a vxlan taken off its bridge, a port forward's DNAT deleted, a veth's rate limit removed) →
 * `preview --refresh --expect-no-changes` exits with the engine's code for changes → `up --refresh`
 * repairs it, as the kernel shows → `destroy` → the sandbox root is as before.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import { EXAMPLE_SETUP, EXPECTED_EXAMPLES, exampleNames, exampleSnapshot } from "../helpers/examples";
import { addrs, assertPings, inNs, ipArgs, iptablesSave, ip6tablesSave, link, sh, sysctl } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { EXIT_CHANGES, Project, requireCli, type StateResource } from "./cli";

/** A change made by hand behind the stack's back, and how to tell from the kernel that it is undone. */
interface Drift {
    what: string;
    repaired: () => Promise<boolean>;
}

const typeIs = (r: StateResource, kind: string) => r.type === `pulumi-nodejs:dynamic/netns:${kind}`;
/** A namespace output: a name, or undefined for the root namespace. */
const nsOf = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * Drift from the stack's own state: the first peer address of each VethPair removed, each MASQUERADE
 * rule deleted (by its `iptables -S` form), each forwarding sysctl set back to 0.
 */
async function driftByHand(resources: StateResource[]): Promise<Drift[]> {
    const drifts: Drift[] = [];
    for (const r of resources) {
        const o = r.outputs ?? {};
        if (typeIs(r, "VethPair") && Array.isArray(o.peerAddresses) && o.peerAddresses.length > 0) {
            const [address, dev, ns] = [String(o.peerAddresses[0]), String(o.peerName), nsOf(o.peerNetns)];
            await sh([...ipArgs(ns), "address", "del", address, "dev", dev]);
            drifts.push({ what: `address ${address} of ${dev}`, repaired: async () => (await addrs(dev, ns)).includes(address) });
        }
        if (typeIs(r, "VethPair") && typeof o.rate === "string") {
            const [dev, ns] = [String(o.name), nsOf(o.netns)];
            await sh(inNs(ns, ["tc", "qdisc", "del", "dev", dev, "root"]));
            const tbf = async () => (JSON.parse(await sh(inNs(ns, ["tc", "-j", "qdisc", "show", "dev", dev, "root"]))) as { kind: string }[])[0]?.kind === "tbf";
            drifts.push({ what: `rate limit of ${dev}`, repaired: tbf });
        }
        if (typeIs(r, "Macvlan") && Array.isArray(o.addresses) && o.addresses.length > 0) {
            const [address, dev, ns] = [String(o.addresses[0]), String(o.name), nsOf(o.netns)];
            await sh([...ipArgs(ns), "address", "del", address, "dev", dev]);
            drifts.push({ what: `address ${address} of macvlan ${dev}`, repaired: async () => (await addrs(dev, ns)).includes(address) });
        }
        if (typeIs(r, "Vxlan") && typeof o.master === "string") {
            const [dev, ns, master] = [String(o.name), nsOf(o.netns), o.master];
            await sh([...ipArgs(ns), "link", "set", "dev", dev, "nomaster"]);
            drifts.push({ what: `vxlan ${dev} taken off ${master}`, repaired: async () => (await link(dev, ns))?.master === master });
        }
        if (typeIs(r, "PortForward") && Array.isArray(o.rules)) {
            // The DNAT for traffic from other hosts deleted, by its `iptables -S` form.
            const [rule, ns] = [String(o.rules[0]), nsOf(o.netns)];
            const tool = o.family === 6 ? "ip6tables" : "iptables";
            await sh(inNs(ns, [tool, "-w", "-t", "nat", ...rule.replace(/^-A /, "-D ").replace(/"/g, "").split(/\s+/)]));
            const save = o.family === 6 ? ip6tablesSave : iptablesSave;
            drifts.push({ what: `rule ${rule}`, repaired: async () => (await save(ns)).includes(rule) });
        }
        if (typeIs(r, "MasqueradeRule")) {
            const [rule, ns] = [String(o.rule), nsOf(o.netns)];
            const tool = o.family === 6 ? "ip6tables" : "iptables";
            await sh(inNs(ns, [tool, "-w", "-t", "nat", ...rule.replace(/^-A /, "-D ").replace(/"/g, "").split(/\s+/)]));
            const save = o.family === 6 ? ip6tablesSave : iptablesSave;
            drifts.push({ what: `rule ${rule}`, repaired: async () => (await save(ns)).includes(rule) });
        }
        if (typeIs(r, "Netns") && o.dns) {
            const file = `/etc/netns/${o.name}/resolv.conf`;
            const text = fs.readFileSync(file, "utf8");
            fs.rmSync(file);
            drifts.push({ what: file, repaired: async () => fs.existsSync(file) && fs.readFileSync(file, "utf8") === text });
        }
        if (typeIs(r, "SysctlForward") && o.ipv4 === true) {
            const ns = nsOf(o.netns);
            await sh(inNs(ns, ["sysctl", "-q", "-w", "net.ipv4.ip_forward=0"]));
            drifts.push({ what: `ip_forward in ${ns ?? "the root namespace"}`, repaired: async () => (await sysctl("net.ipv4.ip_forward", ns)) === "1" });
        }
    }
    return drifts;
}

describePrivileged("e2e: every example through the real pulumi CLI", function () {
    this.timeout(600000);
    before(function () { requireCli(this); });
    const found = exampleNames();

    for (const name of EXPECTED_EXAMPLES.filter((n) => !found.includes(n))) {
        it.skip(`${name}: SKIPPED, examples/${name}/ (Pulumi.yaml + index.ts) is not present`);
    }

    for (const name of found) {
        it(`${name}: up → pings → no changes → refresh clean → drift → preview --refresh exits ${EXIT_CHANGES} → up --refresh repairs → destroy restores the host`, async () => {
            const setup = EXAMPLE_SETUP[name] ?? {};
            await setup.up?.();
            const project = Project.create(`examples/${name}`);
            let built = false;
            try {
                const before = await exampleSnapshot();
                await project.init("dev", setup.config);
                built = true;
                await project.pulumi(["up", "--yes"]);
                await assertPings(await project.outputs(), name);
                await setup.check?.(await project.outputs());

                await project.pulumi(["preview", "--expect-no-changes"]);
                await project.pulumi(["refresh", "--yes", "--expect-no-changes"]);

                const drifts = await driftByHand((await project.exportStack()).deployment.resources ?? []);
                assert.ok(drifts.length > 0, `${name}: nothing to drift`);
                for (const d of drifts) assert.equal(await d.repaired(), false, `${name}: ${d.what} was not changed by hand`);
                const check = await project.pulumi(["preview", "--refresh", "--expect-no-changes"], { codes: [EXIT_CHANGES] });
                assert.equal(check.code, EXIT_CHANGES);

                await project.pulumi(["up", "--refresh", "--yes"]);
                for (const d of drifts) assert.ok(await d.repaired(), `${name}: up --refresh did not repair ${d.what}`);
                await assertPings(await project.outputs(), name);
                await setup.check?.(await project.outputs());
                await project.pulumi(["preview", "--refresh", "--expect-no-changes"]);

                await project.pulumi(["destroy", "--yes"]);
                built = false;
                const left = ((await project.exportStack()).deployment.resources ?? []).filter((r) => r.type !== "pulumi:pulumi:Stack");
                assert.deepEqual(left, [], `${name}: destroy left resources in the state`);
                assert.equal(await exampleSnapshot(), before, `${name}: destroy left the host changed`);
            } finally {
                if (built) await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
                project.remove();
                await setup.down?.();
            }
        });
    }
});
