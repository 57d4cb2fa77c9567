/**
 * An Automation API inline program (`LocalWorkspace.createOrSelectStack({ program })`) through the
 * real Pulumi CLI, as a GitOps service runs one: programs/automation/lab.ts loaded from a service
 * folder whose node_modules holds pulumi-netns and @pulumi/pulumi. With `projectSettings.main` at
 * that folder: up, preview and refresh with no changes, destroy, the kernel checked after each.
 * Started from a folder without node_modules (and with a workDir alone): the first resource fails
 * before anything is registered, with a message naming `projectSettings.main`. The same program as
 * a project of its own (`pulumi preview`) is not taken for an inline one.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace, PulumiCommand, type Stack } from "@pulumi/pulumi/automation";
import { exampleSnapshot } from "../helpers/examples";
import { addrs, link, netnsList, routes, sh } from "../helpers/kernel";
import { REPO_ROOT } from "../helpers/host";
import { describePrivileged } from "../helpers/sandbox";
import { changes, cliDir, Project, requireCli } from "./cli";

const PROJECT = "automation-lab";
const NS = "aulab";

/** The nat table's POSTROUTING rules that pulumi-netns made (`iptables -t nat -S POSTROUTING`). */
const masquerades = async () =>
    (await sh(["iptables", "-t", "nat", "-S", "POSTROUTING"])).split("\n").filter((l) => l.includes("pulumi-netns:"));

describePrivileged("e2e: an Automation API inline program through the real pulumi CLI", function () {
    this.timeout(600000);
    let service: Project;
    let hostBefore = "";
    let pulumiCommand: PulumiCommand;
    const temps: string[] = [];
    const tempDir = (prefix: string) => {
        const d = fs.mkdtempSync(path.join(os.tmpdir(), `pulumi-netns-auto-${prefix}-`));
        temps.push(d);
        return d;
    };

    /** The program, from the service's folder: its pulumi-netns is the copy installed there. */
    const program = async () => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        const { lab } = require(path.join(service.dir, "lab.ts")) as { lab: () => Record<string, unknown> };
        return lab();
    };

    /** The workspace options every stack here gets: the pinned CLI, the service's offline environment. */
    const workspace = () => ({
        pulumiCommand,
        envVars: Object.fromEntries(Object.entries(service.env()).filter((e): e is [string, string] => e[1] !== undefined)),
    });

    /** Runs `fn` with the process's working directory at `dir` (LocalWorkspace reads it for the default `main`). */
    async function inFolder<T>(dir: string, fn: () => Promise<T>): Promise<T> {
        const was = process.cwd();
        process.chdir(dir);
        try {
            return await fn();
        } finally {
            process.chdir(was);
        }
    }

    before(async function () {
        requireCli(this);
        hostBefore = await exampleSnapshot();
        service = Project.create("test/e2e/programs/automation");
        // PulumiCommand.get({ root }) runs ROOT/bin/pulumi (and puts ROOT/bin first on the CLI's PATH: its plugins).
        const root = tempDir("cli");
        fs.symlinkSync(cliDir().dir!, path.join(root, "bin"));
        pulumiCommand = await PulumiCommand.get({ root });
    });

    after(async () => {
        for (const d of temps) fs.rmSync(d, { recursive: true, force: true });
        service?.remove();
        assert.equal(await exampleSnapshot(), hostBefore, "the inline program's stacks left the host changed");
    });

    it("projectSettings.main at the service's folder: up, preview and refresh with no changes, destroy", async () => {
        const stack: Stack = await LocalWorkspace.createOrSelectStack(
            { stackName: "dev", projectName: PROJECT, program },
            { ...workspace(), workDir: tempDir("stack"), projectSettings: { name: PROJECT, runtime: "nodejs", main: service.dir } },
        );
        try {
            const up = await stack.up();
            assert.equal(up.summary.result, "succeeded", up.stdout);
            assert.deepEqual(up.summary.resourceChanges, { create: 5 }, up.stdout); // the stack and four resources
            assert.equal(up.outputs.namespace.value, NS);

            assert.ok((await netnsList()).includes(NS), "no namespace aulab after up");
            assert.deepEqual(await addrs("au0"), ["10.77.0.1/24"]);
            assert.deepEqual(await addrs("au1", NS), ["10.77.0.2/24"]);
            const defaults = (await routes(NS)).filter((r) => r.dst === "default");
            assert.deepEqual(defaults.map((r) => [r.gateway, r.dev]), [["10.77.0.1", "au1"]]);
            const rules = await masquerades();
            assert.equal(rules.length, 1, rules.join("\n"));
            assert.match(rules[0], /^-A POSTROUTING -s 10\.77\.0\.0\/24 -m comment --comment "?pulumi-netns:[0-9a-f]{16}"? -j MASQUERADE$/);
            assert.equal(up.outputs.rule.value, rules[0], "the rule output is the line iptables -S lists");

            const preview = await stack.preview({ expectNoChanges: true });
            assert.deepEqual(preview.changeSummary, { same: 5 }, preview.stdout);
            const refresh = await stack.refresh({ expectNoChanges: true });
            assert.equal(refresh.summary.result, "succeeded", refresh.stdout);
            assert.deepEqual(refresh.summary.resourceChanges, { same: 5 }, refresh.stdout);
            const again = await stack.preview({ expectNoChanges: true, refresh: true });
            assert.deepEqual(again.changeSummary, { same: 5 }, again.stdout);

            const destroy = await stack.destroy();
            assert.equal(destroy.summary.result, "succeeded", destroy.stdout);
            assert.deepEqual(destroy.summary.resourceChanges, { delete: 5 }, destroy.stdout);
            assert.ok(!(await netnsList()).includes(NS), "namespace aulab left after destroy");
            assert.equal(await link("au0"), undefined, "veth end au0 left after destroy");
            assert.deepEqual(await masquerades(), [], "MASQUERADE rule left after destroy");
        } finally {
            await stack.destroy().catch((e: Error) => console.error(e.message));
            await stack.workspace.removeStack("dev").catch((e: Error) => console.error(e.message));
        }
    });

    it("started in a folder without node_modules: up and preview fail before anything is made, naming projectSettings.main", async () => {
        const empty = tempDir("cwd");
        // A workDir whose node_modules holds both packages does not help: main is still the process's folder.
        const withModules = tempDir("workdir");
        fs.symlinkSync(path.join(service.dir, "node_modules"), path.join(withModules, "node_modules"));
        for (const [what, workDir] of [["no workDir", undefined], ["a workDir with node_modules", withModules]] as const) {
            const stack = await inFolder(empty, () => LocalWorkspace.createOrSelectStack(
                { stackName: "bare", projectName: PROJECT, program }, { ...workspace(), workDir }));
            temps.push(stack.workspace.workDir);
            try {
                for (const [op, run] of [["up", () => stack.up()], ["preview", () => stack.preview()]] as const) {
                    const err = await run().then(() => undefined, (e: Error) => e);
                    assert.ok(err, `${what}: ${op} succeeded`);
                    const text = err.message;
                    assert.ok(text.includes(`pulumi-netns: Pulumi runs this program's dynamic providers with Node.js in ${fs.realpathSync(empty)} `),
                        `${what}: ${op} does not name the folder:\n${text}`);
                    assert.ok(text.includes(`pass projectSettings: { name, runtime: "nodejs", main: <a folder whose node_modules holds @pulumi/pulumi and pulumi-netns> }`),
                        `${what}: ${op} does not name the fix:\n${text}`);
                    assert.ok(!text.includes("Cannot find module"), `${what}: ${op} reached the plugin:\n${text}`);
                }
                assert.ok(!(await netnsList()).includes(NS), `${what}: namespace aulab was made`);
                const state = (await stack.exportStack()).deployment.resources ?? [];
                assert.deepEqual(state.filter((r: { type: string }) => r.type.startsWith("pulumi-nodejs:dynamic")), [], `${what}: a resource was registered`);
            } finally {
                await stack.workspace.removeStack("bare", { force: true }).catch((e: Error) => console.error(e.message));
            }
        }
    });

    it("the pinned CLI's dynamic-provider plugin, started where @pulumi/pulumi is not, names projectSettings.main", async function () {
        const plugin = path.join(cliDir().dir!, "pulumi-resource-pulumi-nodejs");
        const installed = fs.readFileSync(plugin, "utf8");
        if (!installed.includes("tools/pulumi-cli/build.sh")) this.skip(); // another CLI's plugin
        const built = /cat <<'EOF'\n([\s\S]*?\n)EOF\n/.exec(fs.readFileSync(path.join(REPO_ROOT, "tools/pulumi-cli/build.sh"), "utf8"))?.[1];
        assert.equal(installed, built, `${plugin} is an older build.sh's: \`bash tools/pulumi-cli/build.sh\` (a reuse) brings it up to date`);
        // A dynamic resource not of pulumi-netns (no check of ours before it): the plugin itself fails.
        const raw = async () => {
            new (class Raw extends pulumi.dynamic.Resource {})({ create: async () => ({ id: "raw" }) }, "raw", {});
        };
        const stack = await inFolder(tempDir("cwd"), () => LocalWorkspace.createOrSelectStack(
            { stackName: "raw", projectName: PROJECT, program: raw }, workspace()));
        temps.push(stack.workspace.workDir);
        try {
            const err = await stack.up().then(() => undefined, (e: Error) => e);
            assert.ok(err, "up succeeded");
            assert.match(err.message, /pulumi-resource-pulumi-nodejs: @pulumi\/pulumi is not installed where Pulumi runs dynamic providers \(\/\S+: the project's main, else the folder of its Pulumi.yaml\)/, err.message);
            assert.ok(err.message.includes("projectSettings: { name, runtime: \"nodejs\", main: <a folder whose node_modules holds @pulumi/pulumi> }"), err.message);
        } finally {
            await stack.workspace.removeStack("raw", { force: true }).catch((e: Error) => console.error(e.message));
        }
    });

    it("the same program as a project of its own (pulumi preview) is not taken for an inline one", async () => {
        await service.init("project");
        const plan = await service.preview();
        assert.deepEqual(changes(plan), ["create lab", "create lab-default", "create lab-nat", "create lab-veth"]);
        await service.pulumi(["stack", "rm", "--yes", "project"]);
    });
});
