/**
 * The provider plugin (`pulumi-resource-netns`) from the other Pulumi languages, through the real
 * CLI and its language hosts (tools/pulumi-cli builds them): the NAT-gateway network in YAML and in
 * Python goes through the whole life of test/e2e/lifecycle.ts; a BridgedNetwork of three members
 * from YAML; the bad inputs the TypeScript suite refuses, refused the same way from YAML.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as yaml from "js-yaml";
import { ownerToken } from "../../provider/core/owner";
import { handlers } from "../../provider/handlers";
import { CASES, VALID } from "../helpers/bad-inputs";
import { EXAMPLE_SETUP, exampleSnapshot, withoutMarkers } from "../helpers/examples";
import { REPO_ROOT } from "../helpers/host";
import { assertPings, sh, shOk } from "../helpers/kernel";
import { describePrivileged, requireTool } from "../helpers/sandbox";
import { haveSshd, startSshd } from "../helpers/sshd";
import { changes, cliDir, Project, requireCli } from "./cli";
import { lifecycle, setSecret } from "./lifecycle";

/**
 * Skips (a failure under CI=true) when the CLI build has no host for `language`, or for Python no
 * virtualenv with Pulumi's Python SDK (PULUMI_NETNS_PYTHON: test/run.sh makes it with tools/pulumi-cli/python.sh).
 */
function requireHost(ctx: Mocha.Context, language: "yaml" | "python"): void {
    requireCli(ctx);
    const venv = process.env.PULUMI_NETNS_PYTHON;
    const host = path.join(cliDir().dir!, `pulumi-language-${language}`);
    const why = !fs.existsSync(host) ? `no pulumi-language-${language} beside the CLI in ${cliDir().dir}`
        : language === "python" && !(venv && fs.existsSync(path.join(venv, "bin", "python3"))) ? "no Python environment for Pulumi (PULUMI_NETNS_PYTHON: tools/pulumi-cli/python.sh)" : undefined;
    if (!why) return;
    if (process.env.CI === "true") throw new Error(why);
    console.warn(`SKIPPING: ${why}`);
    ctx.skip();
}

/**
 * A Python project of `program`: the package's Python SDK generated from its schema (tools/pulumi-cli/gen-python.sh)
 * and installed with pip into the project's `site` folder, which the program's python finds; the python
 * of the pinned virtualenv first on PATH (the host runs the first python3 there).
 */
function pythonProject(program: string): Project {
    const project = Project.create(program);
    const venv = process.env.PULUMI_NETNS_PYTHON!;
    const sdk = path.join(project.dir, "sdk");
    execFileSync("bash", [path.join(REPO_ROOT, "tools/pulumi-cli/gen-python.sh"), path.join(REPO_ROOT, "dist/schema.json"), sdk], { stdio: ["ignore", "ignore", "inherit"] });
    execFileSync(path.join(venv, "bin", "pip"), ["install", "--quiet", "--no-index", "--no-deps", "--no-build-isolation", "--target", path.join(project.dir, "site"), sdk], { stdio: ["ignore", "ignore", "inherit"] });
    Object.assign(project.environment, { PATH: `${path.join(venv, "bin")}:${project.env().PATH}`, PYTHONPATH: path.join(project.dir, "site") });
    return project;
}

/**
 * A LAN on a bridge, made by its own commands as a tutorial makes it (ns1 and ns2 behind br0, their
 * default routes, FORWARD from the bridge), with a MASQUERADE rule for the way out.
 */
const BRIDGE_LAN = [
    "ip netns add ns1", "ip netns add ns2",
    "ip link add br0 type bridge", "ip addr add 192.168.1.254/24 dev br0", "ip link set dev br0 up",
    "ip link add veth1 type veth peer name veth1-br", "ip link set veth1-br up",
    "ip link add veth2 type veth peer name veth2-br", "ip link set veth2-br up",
    "ip link set veth1-br master br0", "ip link set veth2-br master br0",
    "ip link set veth1 netns ns1", "ip netns exec ns1 ip addr add 192.168.1.1/24 dev veth1", "ip netns exec ns1 ip link set veth1 up",
    "ip link set veth2 netns ns2", "ip netns exec ns2 ip addr add 192.168.1.2/24 dev veth2", "ip netns exec ns2 ip link set veth2 up",
    "iptables -A FORWARD -i br0 -j ACCEPT",
    "iptables -t nat -A POSTROUTING -s 192.168.1.0/24 ! -o br0 -j MASQUERADE",
    "ip netns exec ns1 ip route add default via 192.168.1.254", "ip netns exec ns2 ip route add default via 192.168.1.254",
].map((c) => c.split(" "));
const BRIDGE_LAN_DOWN = ["iptables -D FORWARD -i br0 -j ACCEPT", "iptables -t nat -D POSTROUTING -s 192.168.1.0/24 ! -o br0 -j MASQUERADE", "ip netns del ns1", "ip netns del ns2", "ip link del br0"].map((c) => c.split(" "));

describePrivileged("e2e: the provider plugin from YAML and Python", function () {
    this.timeout(900000);

    it("YAML: the NAT gateway: up → pings → no changes → drift → preview --refresh exits 7 → up --refresh repairs → destroy restores the host", async function () {
        requireHost(this, "yaml");
        await lifecycle(this, Project.create("examples/nat-gateway-yaml"), "nat-gateway-yaml", EXAMPLE_SETUP["nat-gateway"]);
    });

    it("Python: the NAT gateway: up → pings → no changes → drift → preview --refresh exits 7 → up --refresh repairs → destroy restores the host", async function () {
        requireHost(this, "python");
        await lifecycle(this, pythonProject("examples/nat-gateway-python"), "nat-gateway-python", EXAMPLE_SETUP["nat-gateway"]);
    });

    it("YAML: a BridgedNetwork of three members is the plugin's component, its children the plugin's resources", async function () {
        requireHost(this, "yaml");
        const before = await exampleSnapshot();
        const project = Project.create("test/e2e/programs/yaml-bridged-network");
        try {
            await project.init("dev");
            await project.pulumi(["up", "--yes"]);
            const outputs = await project.outputs();
            assert.equal(outputs.bridgeName, "br-ylan");
            assert.equal((outputs.addresses as Record<string, string>)["ylan-b"], "10.71.0.20");
            await assertPings(outputs, "yaml-bridged-network");
            const resources = (await project.exportStack()).deployment.resources ?? [];
            const lan = resources.find((r) => r.type === "netns:index:BridgedNetwork");
            assert.ok(lan, "no BridgedNetwork in the state");
            const children = resources.filter((r) => r.parent === lan.urn).map((r) => r.type).sort();
            assert.deepEqual([...new Set(children)], ["netns:index:Bridge", "netns:index:ForwardRule", "netns:index:Netns", "netns:index:Route", "netns:index:VethPair"]);
            assert.equal(resources.filter((r) => r.type === "netns:index:Route").length, 3, "one default route per member");
            assert.ok(resources.every((r) => !r.type.startsWith("pulumi-nodejs:")), "no dynamic resource");
            assert.deepEqual(changes(await project.preview(["--expect-no-changes"])), []);
            await project.pulumi(["destroy", "--yes"]);
            assert.equal(await exampleSnapshot(), before, "destroy left the host changed");
        } finally {
            await project.pulumi(["destroy", "--yes"]).catch(() => undefined);
            project.remove();
        }
    });

    it("YAML: the bad inputs the TypeScript suite refuses (one per resource and property) are refused with the same reason, nothing made", async function () {
        requireHost(this, "yaml");
        const before = await exampleSnapshot();
        const project = Project.create("test/e2e/programs/yaml-bridged-network");
        const header = fs.readFileSync(path.join(project.dir, "Pulumi.yaml"), "utf8").split("\nresources:")[0];
        try {
            await project.init("dev");
            const seen = new Set<string>();
            let refused = 0;
            // A null is no value in Pulumi's model (YAML's `null`, Python's None): the property is left out, not refused.
            for (const [kind, override, property] of CASES.filter(([, o]) => !Object.values(o).includes(null))) {
                if (seen.has(`${kind}.${property}`)) continue;
                seen.add(`${kind}.${property}`);
                const props = Object.fromEntries(Object.entries({ ...VALID[kind], ...override }).filter(([, v]) => v !== undefined));
                fs.writeFileSync(path.join(project.dir, "Pulumi.yaml"), `${header}\n${yaml.dump({ resources: { bad: { type: `netns:index:${kind}`, properties: props } } })}`);
                const r = await project.pulumi(["preview"], { codes: [1, 255] });
                const out = (r.stdout + r.stderr).replace(/\s+/g, " ");
                const what = `${kind} ${JSON.stringify(override)}`;
                // The reason the dynamic provider's check gives (Pulumi YAML itself refuses a value of the wrong type first, naming the property).
                const { failures } = await handlers[kind].check!({}, { ...props, owner: ownerToken("p", "s", kind, "bad") });
                const failure = failures!.find((f) => f.property === property) ?? failures![0];
                if (out.includes("has a problem")) {
                    assert.ok(out.includes(`has a problem: ${failure.reason.replace(/\s+/g, " ")}`), `${what}: not refused with "${failure.reason}":\n${out}`);
                    refused++;
                } else {
                    assert.match(out, new RegExp(`${property.split(".")[0]}`), `${what}: refused without naming ${property}:\n${out}`);
                }
            }
            assert.ok(refused >= seen.size / 2, `only ${refused} of ${seen.size} refused by the plugin's check`);
            assert.equal(await exampleSnapshot(), before, "a refused preview changed the host");
        } finally {
            project.remove();
        }
    });

    it("pulumi import of a bridge LAN made by its own commands: only markers written, then the generated program previews and refreshes clean, and destroy removes it", async function () {
        requireHost(this, "yaml");
        const pristine = await exampleSnapshot();
        for (const argv of BRIDGE_LAN) await sh(argv);
        const project = Project.create("test/e2e/programs/yaml-import");
        let imported = false;
        try {
            const built = await withoutMarkers(["ns1", "ns2"]);
            await project.init("dev");
            // One resource as the docs show it, then the rest from the file scan writes for `pulumi import --file`.
            imported = true;
            await project.pulumi(["import", "netns:index:Netns", "ns1", "ns1", "--yes", "--protect=false", "--out", "one.yaml"]);
            const file = JSON.parse(execFileSync(process.execPath, [path.join(REPO_ROOT, "dist/provider/bin.js"), "scan", "--format", "import", "--netns", "ns1,ns2"], { encoding: "utf8" }));
            const rest = file.resources.filter((r: { type: string; id: string }) => !(r.type === "netns:index:Netns" && r.id === "ns1"));
            assert.deepEqual(rest.map((r: { type: string }) => r.type).sort(), ["netns:index:Bridge", "netns:index:ForwardRule", "netns:index:MasqueradeRule", "netns:index:Netns", "netns:index:Route", "netns:index:Route", "netns:index:VethPair", "netns:index:VethPair"]);
            fs.writeFileSync(path.join(project.dir, "import.json"), JSON.stringify({ resources: rest }));
            await project.pulumi(["import", "--file", "import.json", "--yes", "--protect=false", "--out", "rest.yaml"]);
            assert.equal(await withoutMarkers(["ns1", "ns2"]), built, "import changed more than pulumi-netns' markers");
            assert.ok(await shOk(["ip", "netns", "exec", "ns1", "ping", "-c1", "-W1", "192.168.1.2"]), "the LAN answers after the import");

            // The program pulumi import wrote, as the project's Main.yaml.
            const program = (f: string) => (yaml.load(fs.readFileSync(path.join(project.dir, f), "utf8")) as { resources: Record<string, unknown> }).resources;
            fs.writeFileSync(path.join(project.dir, "Main.yaml"), yaml.dump({ resources: { ...program("one.yaml"), ...program("rest.yaml") } }));
            assert.deepEqual(changes(await project.preview(["--expect-no-changes"])), []);
            await project.pulumi(["refresh", "--yes", "--expect-no-changes"]);

            await project.pulumi(["destroy", "--yes"]);
            imported = false;
            assert.equal(await exampleSnapshot(), pristine, "destroy left the host changed");
        } finally {
            if (imported) await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
            for (const argv of BRIDGE_LAN_DOWN) await sh(argv).catch(() => undefined);
            project.remove();
        }
    });

    it("the plugin from its tarball (npm run plugin-tarball, pulumi plugin install) is found without a plugins entry; pulumi about lists it; before, preview names it missing", async function () {
        requireHost(this, "yaml");
        const before = await exampleSnapshot();
        const project = Project.create("test/e2e/programs/yaml-plugin-install");
        try {
            await project.init("dev");
            const missing = await project.pulumi(["preview"], { codes: [1, 255] });
            assert.match(missing.stdout + missing.stderr, /no resource plugin 'pulumi-resource-netns' found in the workspace or on your \$PATH/);

            // Built from npm's cache (test/run.sh fills it before the sandbox, which has no registry).
            const tarball = execFileSync("bash", [path.join(REPO_ROOT, "tools/plugin-tarball.sh"), project.root], { encoding: "utf8", env: { ...process.env, npm_config_offline: "true" } }).trim();
            const { version } = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
            assert.equal(path.basename(tarball), `pulumi-resource-netns-v${version}-linux-amd64.tar.gz`);
            await project.pulumi(["plugin", "install", "resource", "netns", version, "--file", tarball]);
            const plugins = JSON.parse((await project.pulumi(["plugin", "ls", "--json"])).stdout) as { name: string; kind: string; version: string }[];
            assert.ok(plugins.some((p) => p.name === "netns" && p.kind === "resource" && p.version === version), JSON.stringify(plugins));

            await project.pulumi(["up", "--yes"]);
            assert.equal((await project.outputs()).path, "/run/netns/tbblue");
            assert.match((await project.pulumi(["about"])).stdout, /resource\s+netns\s/);
            await project.pulumi(["destroy", "--yes"]);
            assert.equal(await exampleSnapshot(), before, "destroy left the host changed");
        } finally {
            await project.pulumi(["destroy", "--yes"]).catch(() => undefined);
            project.remove();
        }
    });

    it("YAML: a resource on another host over SSH, its connection a secret: the key never in plain text in the output or the state", async function () {
        requireHost(this, "yaml");
        requireTool(this, haveSshd(), "openssh-server (/usr/sbin/sshd)");
        const host = await startSshd();
        const project = Project.create("test/e2e/programs/yaml-remote");
        try {
            await project.init("dev");
            // The connection as a config object, its private key a secret inside it (on stdin, never on a command line).
            const { privateKey, ...plainConnection } = host.connection;
            for (const [k, v] of Object.entries(plainConnection)) await project.pulumi(["config", "set", "--path", `connection.${k}`, String(v)]);
            await setSecret(project, "connection.privateKey", privateKey, { path: true });
            const up = await project.pulumi(["up", "--yes"]);
            assert.ok((await host.exec(["ip", "netns", "list"])).includes("yfar"), "the namespace is on the remote host");
            assert.doesNotMatch(await sh(["ip", "netns", "list"]), /yfar/, "not on this one");
            const state = (await project.pulumi(["stack", "export"])).stdout;
            const key = host.privateKey.split("\n").find((l) => l.length >= 32)!;
            for (const [what, text] of [["up's output", up.stdout + up.stderr], ["the state", state]]) assert.ok(!text.includes(key), `the private key is in ${what}`);
            const far = JSON.parse(state).deployment.resources.find((r: { type: string }) => r.type === "netns:index:Netns");
            assert.ok(far.outputs.connection.ciphertext && far.inputs.connection.ciphertext, "connection is secret in inputs and outputs");
            await project.pulumi(["preview", "--refresh", "--expect-no-changes"]);
            await project.pulumi(["destroy", "--yes"]);
            assert.doesNotMatch(await host.exec(["ip", "netns", "list"]), /yfar/);
        } finally {
            await project.pulumi(["destroy", "--yes"]).catch(() => undefined);
            project.remove();
            await host.stop();
        }
    });

    it("scan --format yaml of a bridge LAN made by its own commands: pulumi up adopts it (only markers written), previews clean, destroy removes it", async function () {
        requireHost(this, "yaml");
        const pristine = await exampleSnapshot();
        for (const argv of BRIDGE_LAN) await sh(argv);
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-scan-yaml-"));
        let project: Project | undefined;
        try {
            const built = await withoutMarkers(["ns1", "ns2"]);
            const program = execFileSync(process.execPath, [path.join(REPO_ROOT, "dist/provider/bin.js"), "scan", "--format", "yaml", "--netns", "ns1,ns2"], { encoding: "utf8" });
            const parsed = yaml.load(program) as { runtime: string; plugins: { providers: { path: string }[] }; resources: Record<string, { type: string; properties: { adopt?: boolean } }> };
            assert.equal(parsed.runtime, "yaml");
            assert.equal(parsed.plugins.providers[0].path, path.join(REPO_ROOT, "bin"), "the plugin of the package that scanned");
            assert.deepEqual(Object.values(parsed.resources).map((r) => r.type).sort(), ["netns:index:Bridge", "netns:index:ForwardRule", "netns:index:MasqueradeRule", "netns:index:Netns", "netns:index:Netns", "netns:index:Route", "netns:index:Route", "netns:index:VethPair", "netns:index:VethPair"]);
            assert.ok(Object.values(parsed.resources).every((r) => r.properties.adopt === true));
            fs.writeFileSync(path.join(dir, "Pulumi.yaml"), program);
            project = Project.create(dir);
            await project.init("dev");
            await project.pulumi(["up", "--yes"]);
            assert.equal(await withoutMarkers(["ns1", "ns2"]), built, "adoption changed more than pulumi-netns' markers");
            await project.pulumi(["preview", "--expect-no-changes"]);
            await project.pulumi(["destroy", "--yes"]);
            assert.equal(await exampleSnapshot(), pristine, "destroy left the host changed");
        } finally {
            await project?.pulumi(["destroy", "--yes"]).catch(() => undefined);
            for (const argv of BRIDGE_LAN_DOWN) await sh(argv).catch(() => undefined);
            project?.remove();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
