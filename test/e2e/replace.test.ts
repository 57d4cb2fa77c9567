/**
 * Replacements through the real pulumi CLI, on one resource of every kind (programs/replace):
 * `pulumi up --replace URN` on each alone (and with `--target`), `replacementTrigger` and
 * `replaceOnChanges` on all at once, and `replaceWith` on a rule in the namespace that names it by a literal. After each, the kernel holds the same network as before,
 * every object re-made (a link's ifindex, a namespace's inode are new), and
 * `preview --refresh --expect-no-changes` passes: no state claims an object the kernel lacks.
 */
import { strict as assert } from "assert";
import { addrs, ip6tablesSave, iptablesSave, links, netnsCookie, routes, snapshotHost, sysctl } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { nameOf, withProject, type PreviewJson, type Project } from "./cli";

const NS = "rpa";

/** The network the program makes, as the kernel reports it: the sandbox root and the namespace. */
async function network(): Promise<string> {
    const inside = {
        links: await Promise.all((await links(NS)).sort((a, b) => a.ifname.localeCompare(b.ifname)).map(async (l) => ({
            ifname: l.ifname, ifalias: l.ifalias ?? null, master: l.master ?? null, mtu: l.mtu, flags: l.flags, kind: l.linkinfo?.info_kind ?? null,
            addrs: (await addrs(l.ifname, NS)).sort(),
        }))),
        routes: (await routes(NS)).map((r) => JSON.stringify(r)).sort(),
        iptables: await iptablesSave(NS),
        ip6tables: await ip6tablesSave(NS),
        forwarding: [await sysctl("net.ipv4.ip_forward", NS), await sysctl("net.ipv6.conf.all.forwarding", NS)],
    };
    return `${await snapshotHost()}\n${JSON.stringify(inside, null, 1)}`;
}

/**
 * What tells a re-made object from the old one: the namespace's cookie (never reused, unlike its
 * inode), and each link's ifindex (a namespace does not reuse one soon; inside the namespace, with
 * the namespace's cookie: a new namespace counts afresh).
 */
async function identities(): Promise<Record<string, string>> {
    const cookie = await netnsCookie(NS);
    const out: Record<string, string> = { [`netns ${NS}`]: cookie };
    for (const l of await links()) out[`/${l.ifname}`] = String(l.ifindex);
    for (const l of await links(NS)) out[`${NS}/${l.ifname}`] = `${cookie}:${l.ifindex}`;
    return out;
}

/** The URN of resource `name` in the project's stack. */
async function urnOf(project: Project, name: string): Promise<string> {
    const state = await project.exportStack();
    const r = state.deployment.resources?.find((x) => nameOf(x.urn) === name && x.custom);
    assert.ok(r, `no resource ${name} in the stack`);
    return r.urn;
}

/** Resource names the preview replaces. */
const replaced = (p: PreviewJson) => p.steps.filter((s) => s.op === "replace" || s.op === "delete-replaced" || s.op === "create-replacement")
    .map((s) => nameOf(s.urn)).filter((n, i, all) => all.indexOf(n) === i).sort();

/**
 * For each kind: the resource, the resources replaced with it because their objects live in or on
 * it (the engine learns it from their diffs: a reference not known yet is a replacement), and the
 * objects that must be new afterwards (see {@link identities}).
 */
const CASES: [string, string[], string[]][] = [
    ["ns", ["chain", "chain-rule", "inner-masquerade", "jump", "literal-forward", "macvlan", "policy", "route", "sysctl", "veth", "vxlan"], [`netns ${NS}`, "/rpv0", `${NS}/eth0`, `${NS}/rpmv0`, `${NS}/rpvx0`]],
    ["br", ["forward", "route", "veth", "vxlan"], ["/rpbr0", "/rpv0", `${NS}/eth0`, `${NS}/rpvx0`]],
    ["veth", ["route", "vxlan"], ["/rpv0", `${NS}/eth0`, `${NS}/rpvx0`]],
    ["uplink", ["macvlan", "masquerade"], ["/rpu0", "/rpu1", `${NS}/rpmv0`]],
    ["macvlan", [], [`${NS}/rpmv0`]],
    ["vxlan", [], [`${NS}/rpvx0`]],
    ["route", [], []],
    ["masquerade", [], []],
    ["forward", [], []],
    ["portforward", [], []],
    ["inner-masquerade", [], []],
    ["sysctl", [], []],
    ["literal-forward", [], []],
    ["policy", [], []],
    ["chain", ["chain-rule", "jump"], []],
    ["chain-rule", [], []],
    ["jump", [], []],
];

describePrivileged("e2e: replacements through the real pulumi CLI", function () {
    this.timeout(900000);
    const ctx = withProject("test/e2e/programs/replace");
    let original = "";
    before(async () => {
        await ctx.project.pulumi(["up", "--yes", "--skip-preview"]);
        original = await network();
    });

    /** After a replacement: the same network, the given objects re-made, and a refresh-preview with no changes. */
    async function assertIntact(remade: string[], old: Record<string, string>): Promise<void> {
        assert.equal(await network(), original, "the kernel holds the network as before the replacement");
        const now = await identities();
        for (const key of remade) assert.notEqual(now[key], old[key], `${key} was re-made`);
        await ctx.project.pulumi(["preview", "--refresh", "--expect-no-changes"]);
    }

    for (const [name, dependents, remade] of CASES) {
        it(`up --replace ${name} re-makes it${dependents.length ? ` and what lives on it (${dependents.join(", ")})` : ""}`, async () => {
            const urn = await urnOf(ctx.project, name);
            const preview = await ctx.project.preview(["--replace", urn]);
            assert.deepEqual(replaced(preview), [name, ...dependents].sort());
            const old = await identities();
            await ctx.project.pulumi(["up", "--yes", "--skip-preview", "--replace", urn]);
            await assertIntact(remade, old);
        });
    }

    it("up --target VETH --replace VETH re-makes the pair, and its dependents with it", async () => {
        const urn = await urnOf(ctx.project, "veth");
        const old = await identities();
        await ctx.project.pulumi(["up", "--yes", "--skip-preview", "--target", urn, "--replace", urn]);
        await assertIntact(["/rpv0", `${NS}/eth0`, `${NS}/rpvx0`], old);
    });

    it("a changed replacementTrigger re-makes every resource", async () => {
        const old = await identities();
        await ctx.project.setConfig({ trigger: "one" });
        await ctx.project.pulumi(["up", "--yes", "--skip-preview"]);
        await ctx.project.setConfig({ trigger: "two" });
        const preview = await ctx.project.preview();
        assert.equal(replaced(preview).length, 17, JSON.stringify(replaced(preview)));
        await ctx.project.pulumi(["up", "--yes", "--skip-preview"]);
        await assertIntact([`netns ${NS}`, "/rpbr0", "/rpv0", "/rpu0", `${NS}/rpmv0`, `${NS}/rpvx0`], old);
    });

    it("replaceOnChanges turns an in-place update into a replacement", async () => {
        await ctx.project.setConfig({ replaceOnChanges: ["addresses", "peerAddresses", "hosts", "source", "ipv6"] });
        await ctx.project.pulumi(["up", "--yes", "--skip-preview"]);
        await ctx.project.pulumi(["preview", "--expect-no-changes"]);
        const old = await identities();
        await ctx.project.setConfig({ edit: true });
        const preview = await ctx.project.preview();
        for (const name of ["ns", "br", "veth", "route", "macvlan", "vxlan", "sysctl"]) assert.ok(replaced(preview).includes(name), `${name} is replaced: ${JSON.stringify(replaced(preview))}`);
        await ctx.project.pulumi(["up", "--yes", "--skip-preview"]);
        const now = await identities();
        for (const key of [`netns ${NS}`, "/rpbr0", "/rpv0", `${NS}/rpmv0`, `${NS}/rpvx0`]) assert.notEqual(now[key], old[key], `${key} was re-made`);
        await ctx.project.pulumi(["preview", "--refresh", "--expect-no-changes"]);
    });
});
