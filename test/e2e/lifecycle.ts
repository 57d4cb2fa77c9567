/**
 * The life of a stack as the e2e suites run it through the real Pulumi CLI (test/e2e/cli.ts): `up` →
 * the program's pings answer, and its setup's check passes → `preview --expect-no-changes` passes →
 * `refresh --expect-no-changes` passes → drift made by hand (a peer address removed, MASQUERADE rules
 * deleted, ip_forward reset, a namespace's resolv.conf removed, …; on another host, the setup's own
 * drift) → `preview --refresh --expect-no-changes` exits with the engine's code for changes → `up
 * --refresh` repairs it, as the kernel shows → `destroy` → the sandbox root, and any other host the
 * program uses, is as before. Secret config goes in on stdin and appears in plain text in neither the
 * CLI's output, the state nor the settings file. The same for a program in any language: resources
 * are told by their kind, under the dynamic provider's type token or the provider plugin's.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { exampleSnapshot, type Drift, type ExampleSetup } from "../helpers/examples";
import { addrs, assertPings, inNs, ipArgs, iptablesSave, ip6tablesSave, link, sh, sysctl } from "../helpers/kernel";
import { requireTool } from "../helpers/sandbox";
import { cliDir, EXIT_CHANGES, Project, type StateResource } from "./cli";

/** True when a state entry is a resource of `kind`: a TypeScript program's dynamic one, or the provider plugin's. */
export const typeIs = (r: StateResource, kind: string) => r.type === `pulumi-nodejs:dynamic/netns:${kind}` || r.type === `netns:index:${kind}`;
/** A namespace output: a name, or undefined for the root namespace. */
const nsOf = (v: unknown) => (typeof v === "string" ? v : undefined);

/**
 * `pulumi config set --secret KEY` with the value (JSON unless a string) on stdin: never on a
 * command line, so never in `ps` nor in an error message.
 */
export async function setSecret(project: Project, key: string, value: unknown, opts: { path?: boolean } = {}): Promise<void> {
    const child = spawn(path.join(cliDir().dir!, "pulumi"), ["config", "set", "--secret", ...(opts.path ? ["--path"] : []), key, "--non-interactive"], { cwd: project.dir, env: project.env(), stdio: ["pipe", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    child.stdin.end(typeof value === "string" ? value : JSON.stringify(value));
    const code = await new Promise((r) => child.on("close", r));
    if (code !== 0) throw new Error(`pulumi config set --secret ${key} exited with ${code}: ${stderr}`);
}

/**
 * Drift from the stack's own state: the first peer address of each VethPair removed, each MASQUERADE
 * rule deleted (by its `iptables -S` form), each forwarding sysctl set back to 0, a flood entry of
 * each Vxlan with `remotes` deleted… Resources on another host (with a `connection`) are left to the
 * example's setup (its `drift`).
 */
export async function driftByHand(resources: StateResource[]): Promise<Drift[]> {
    const drifts: Drift[] = [];
    for (const r of resources) {
        const o = r.outputs ?? {};
        if (o.connection !== undefined) continue;
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
        if (typeIs(r, "Vxlan") && Array.isArray(o.remotes) && o.remotes.length > 0) {
            const [dev, ns, remote] = [String(o.name), nsOf(o.netns), String(o.remotes[0])];
            await sh(inNs(ns, ["bridge", "fdb", "del", "00:00:00:00:00:00", "dev", dev, "dst", remote, "self"]));
            const flood = async () => (JSON.parse(await sh(inNs(ns, ["bridge", "-json", "fdb", "show", "dev", dev]))) as { mac: string; dst?: string }[]).some((e) => e.mac === "00:00:00:00:00:00" && e.dst === remote);
            drifts.push({ what: `flood entry of vxlan ${dev} to ${remote}`, repaired: flood });
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


/**
 * Runs the whole life above for `project` (made by the caller, removed here), named `name` in
 * messages, with its setup (uplinks, servers, config, checks).
 */
export async function lifecycle(ctx: Mocha.Context, project: Project, name: string, setup: ExampleSetup): Promise<void> {
    if (setup.needs) requireTool(ctx, setup.needs.ok(), setup.needs.what);
    await setup.up?.();
    let built = false;
    try {
        const before = await exampleSnapshot();
        const othersBefore = await setup.snapshot?.();
        await project.init("dev", setup.config);
        const secrets = setup.secrets?.() ?? {};
        for (const [key, value] of Object.entries(secrets)) await setSecret(project, key, value);
        built = true;
        const up = await project.pulumi(["up", "--yes"]);
        // Not one secret's text (a private key, a host key: the long strings in it) in the CLI's output, the state or the stack's settings.
        const leaves = (v: unknown): string[] => (typeof v === "string" ? [v] : v && typeof v === "object" ? Object.values(v).flatMap(leaves) : []);
        const stored = [up.stdout, up.stderr, JSON.stringify(await project.exportStack()), fs.readFileSync(path.join(project.dir, "Pulumi.dev.yaml"), "utf8")];
        for (const [key, value] of Object.entries(secrets)) {
            for (const text of leaves(value).filter((t) => t.length >= 32)) assert.ok(stored.every((t) => !t.includes(text)), `${name}: a value of secret ${key} appears in plain text`);
        }
        await assertPings(await project.outputs(), name);
        await setup.check?.(await project.outputs());

        await project.pulumi(["preview", "--expect-no-changes"]);
        await project.pulumi(["refresh", "--yes", "--expect-no-changes"]);

        const resources = (await project.exportStack()).deployment.resources ?? [];
        const drifts = [...(await driftByHand(resources)), ...((await setup.drift?.(resources)) ?? [])];
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
        assert.equal(await setup.snapshot?.(), othersBefore, `${name}: destroy left another host changed`);
    } finally {
        if (built) await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
        project.remove();
        await setup.down?.();
    }
}
