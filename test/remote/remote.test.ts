/**
 * Remote hosts over SSH: quoting, host-key verification, the schema and diff of `connection`, and
 * resources (and examples/bridge-lan through the real pulumi CLI) built on a second host: namespace
 * `remote` running a real sshd (test/helpers/sshd.ts), with a leak check of its network stack.
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import { appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { handlers } from "../../provider/handlers";
import { CommandError } from "../../provider/linux/exec";
import { shellQuote, targetOf } from "../../provider/linux/target";
import { Project, requireCli } from "../e2e/cli";
import { link, netnsList, sh } from "../helpers/kernel";
import { checked, commandsDuring, failedProperties, owner } from "../helpers/provider";
import { describePrivileged, requireTool } from "../helpers/sandbox";
import { haveSshd, pingRemote, REMOTE_ADDRESS, REMOTE_NETNS, snapshotRemote, startSshd, Sshd } from "../helpers/sshd";

/** Values a shell would act on: none may reach the remote shell unquoted. */
const HOSTILE = ["$(touch /tmp/pulumi-netns-pwned)", "a;touch /tmp/pulumi-netns-pwned", "`touch /tmp/pulumi-netns-pwned`", "x\ny", "it's", '"q"', "$HOME", "*", "a b", "|&>", "\\", "-n", ""];

describe("remote: connection schema, quoting and diff (no commands)", () => {
    const base = { name: "blue", owner: owner("Netns", "blue") };
    it("validates connection and sudo, fills the port, and never echoes a secret", async () => {
        const cmds = await commandsDuring(async () => {
            const inputs = await checked(handlers.Netns, { ...base, connection: { host: "10.0.0.1", user: "root" }, sudo: true });
            assert.deepEqual(inputs.connection, { host: "10.0.0.1", port: 22, user: "root" });
            for (const connection of [{ host: "-oProxyCommand=x" }, { host: "a b" }, { host: "h", port: 0 }, { host: "h", user: "-x" }, { host: "h", proxyJump: "-oX" }, { host: "h", extra: 1 }]) {
                assert.deepEqual((await failedProperties(handlers.Netns, { ...base, connection })).map((p) => p.split(".")[0]), ["connection"], JSON.stringify(connection));
            }
            const secret = "not-a-key-SECRET-VALUE";
            const r = await handlers.Netns.check!({}, { ...base, connection: { host: "h", privateKey: secret, hostKey: secret } });
            assert.ok(r.failures!.length === 2 && !JSON.stringify(r.failures).includes("SECRET"), JSON.stringify(r.failures));
        });
        assert.deepEqual(cmds, []);
    });
    it("replaces only when the host or port changes; key, user and sudo changes are updates", async () => {
        const o = { ...base, loopbackUp: true, path: "/run/netns/blue", connection: { host: "h1", port: 22, user: "root", privateKey: "k1" } };
        const diff = (news: Record<string, unknown>) => handlers.Netns.diff!("x", o, { ...o, ...news });
        assert.deepEqual(await diff({ connection: { ...o.connection, host: "h2" } }), { changes: true, replaces: ["connection"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ connection: { ...o.connection, port: 2222 } }), { changes: true, replaces: ["connection"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ connection: undefined }), { changes: true, replaces: ["connection"], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ connection: { ...o.connection, privateKey: "k2", user: "admin" } }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ sudo: true }), { changes: true, replaces: [], deleteBeforeReplace: true });
        assert.deepEqual(await diff({ sudo: false }), { changes: false, replaces: [], deleteBeforeReplace: true });
        const rule = await checked(handlers.ForwardRule, { inInterface: "br0", owner: owner("ForwardRule", "f"), connection: { host: "h1" } });
        assert.deepEqual((await handlers.ForwardRule.diff!("x", rule, { ...rule, connection: { host: "h2" } })).replaces, ["connection"]);
    });
    it("quotes every argv element for the remote shell", () => {
        assert.equal(shellQuote(["ip", "it's", "$(x)"]), `'ip' 'it'\\''s' '$(x)'`);
    });
});

describePrivileged("remote: resources on a second host over SSH", function () {
    this.timeout(180000);
    let sshd: Sshd;
    before(async function () {
        requireTool(this, haveSshd(), "openssh-server (/usr/sbin/sshd)");
        sshd = await startSshd();
    });
    after(async () => sshd?.stop());

    it("argv elements arrive literally: metacharacters never reach the remote shell unquoted", async () => {
        const t = targetOf({ connection: sshd.connection });
        const r = await t.run(["printf", "%s\\0", ...HOSTILE]);
        assert.deepEqual(r.stdout.split("\0").slice(0, -1), HOSTILE);
        assert.ok(!existsSync("/tmp/pulumi-netns-pwned"), "a metacharacter was interpreted");
    });

    it("verifies host keys: a wrong key fails clearly, without the private key in the message", async () => {
        const other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx2Xs0oTnKhGsFJ1kcODxHCbJjWw3XKSj4HIobmDqWx";
        const t = targetOf({ connection: { ...sshd.connection, hostKey: other } });
        const err = await t.run(["true"]).then(() => undefined, (e: Error) => e);
        assert.ok(err, "a wrong host key must fail");
        assert.match(err.message, /cannot connect to root@10\.77\.0\.2: the host's key is unknown or has changed/);
        assert.ok(!err.message.includes("PRIVATE KEY") && !err.message.includes(sshd.privateKey.split("\n")[1]), err.message);
    });

    it("authenticates with a passphrase-protected key, or through an ssh-agent; a wrong passphrase fails clearly", async () => {
        const dir = mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-keys-"));
        let agent: ChildProcess | undefined;
        try {
            const key = path.join(dir, "key");
            await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "s3cret pass'phrase", "-C", "encrypted", "-f", key]);
            appendFileSync(path.join(sshd.dir, "authorized_keys"), readFileSync(`${key}.pub`));
            const encrypted = readFileSync(key, "utf8");
            const hostname = (c: object) => targetOf({ connection: { ...sshd.connection, ...c } }).run(["cat", "/proc/sys/kernel/hostname"]);
            assert.ok((await hostname({ privateKey: encrypted, privateKeyPassword: "s3cret pass'phrase" })).stdout.length > 0);
            const err = await hostname({ privateKey: encrypted, privateKeyPassword: "wrong" }).then(() => undefined, (e: Error) => e);
            assert.match(String(err?.message), /cannot connect to root@10\.77\.0\.2: authentication failed/);
            assert.ok(!String(err?.message).includes("s3cret") && !String(err?.message).includes("wrong"), String(err?.message));
            // An agent holding the (decrypted) test key; the connection carries no key at all.
            const socket = path.join(dir, "agent.sock");
            agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
            for (let i = 0; i < 100 && !existsSync(socket); i++) await new Promise((r) => setTimeout(r, 20));
            writeFileSync(path.join(dir, "plain"), sshd.privateKey, { mode: 0o600 });
            await sh(["ssh-add", "-q", path.join(dir, "plain")], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
            const { privateKey: _k, ...keyless } = sshd.connection;
            assert.ok((await targetOf({ connection: { ...keyless, agentSocketPath: socket } }).run(["true"])).exitCode === 0);
        } finally {
            agent?.kill();
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("pulumi-netns scan --host reads the remote host over ssh (its known key only), writing the connection into the program", async () => {
        await sshd.exec(["ip", "netns", "add", "rscan"]);
        const dir = mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-scan-key-"));
        try {
            writeFileSync(path.join(dir, "key"), sshd.privateKey, { mode: 0o600 });
            const bin = path.join(__dirname, "..", "..", "dist", "provider", "bin.js");
            const scan = (extra: string[]) => spawnSync(process.execPath, [bin, "scan", "--host", `root@${REMOTE_ADDRESS}`, "--identity", path.join(dir, "key"), ...extra], { encoding: "utf8" });
            const r = scan(["--host-key", sshd.hostKey, "--netns", "rscan"]);
            assert.equal(r.status, 0, r.stderr);
            assert.match(r.stdout, new RegExp(`^// Written by \`pulumi-netns scan\` from root@${REMOTE_ADDRESS.replace(/\./g, "\\.")} `));
            assert.match(r.stdout, new RegExp(`const connection = \\{"host":"${REMOTE_ADDRESS.replace(/\./g, "\\.")}","user":"root"\\};`));
            assert.match(r.stdout, /new netns\.Netns\("rscan", \{ name: "rscan", loopbackUp: false, connection: connection, adopt: true \}\);/);
            assert.ok(!r.stdout.includes(sshd.privateKey.split("\n")[1]), "the key never reaches the program");
            // Without the host key (not in known_hosts): refused, as a resource's connection would be.
            const unknown = scan([]);
            assert.equal(unknown.status, 1);
            assert.match(unknown.stderr, /cannot connect to root@10\.77\.0\.2: the host's key is unknown or has changed/);
        } finally {
            rmSync(dir, { recursive: true, force: true });
            await sshd.exec(["ip", "netns", "del", "rscan"]);
        }
    });

    it("Netns, VethPair, Route: created, read and deleted on the remote host; ids carry the host", async () => {
        const c = { connection: sshd.connection };
        const ns = await checked(handlers.Netns, { ...c, name: "rns1", dns: { nameservers: ["10.88.0.53"] }, hosts: { "10.88.0.1": ["gw"] }, owner: owner("Netns", "rns1") });
        const veth = await checked(handlers.VethPair, { ...c, name: "rveth0", peerName: "eth0", peerNetns: "rns1", addresses: ["10.88.0.1/24"], peerAddresses: ["10.88.0.2/24"], owner: owner("VethPair", "rv") });
        const route = await checked(handlers.Route, { ...c, destination: "10.99.0.0/16", gateway: "10.88.0.1", netns: "rns1", owner: owner("Route", "rr") });
        const made = [];
        for (const [kind, inputs] of [["Netns", ns], ["VethPair", veth], ["Route", route]] as const) {
            const r = await handlers[kind].create(inputs);
            assert.ok(r.id.startsWith(`ssh://root@${REMOTE_ADDRESS}/`), r.id);
            assert.deepEqual(r.outs.connection, inputs.connection);
            made.push({ kind, ...r });
        }
        assert.ok(await link("rveth0", REMOTE_NETNS), "the veth's root end is in the remote host's namespace");
        assert.equal(await link("rveth0"), undefined, "and not on this host");
        assert.ok(await pingRemote(sshd, "rns1", "10.88.0.1"));
        assert.match(await sshd.exec(["ip", "-n", "rns1", "route", "show", "10.99.0.0/16"]), /via 10\.88\.0\.1 .*proto 250/);
        // dns and hosts written on the remote host (mkdir, dd, mv there), as ip netns exec there shows them.
        assert.match(await sshd.exec(["ip", "netns", "exec", "rns1", "cat", "/etc/resolv.conf"]), new RegExp(`^# ${owner("Netns", "rns1")} .*\nnameserver 10\.88\.0\.53\n$`));
        assert.match(await sshd.exec(["ip", "netns", "exec", "rns1", "getent", "hosts", "gw"]), /^10\.88\.0\.1\s+gw\n?$/);
        for (const m of made) assert.deepEqual((await handlers[m.kind].read!(m.id, m.outs)).props, m.outs);
        // Another key for the same host is an update, run with that key (its own ssh master: a key the
        // host does not accept would fail), and the namespace on the remote host is the same one.
        const keyDir = mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-key2-"));
        try {
            await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "second", "-f", path.join(keyDir, "key")]);
            appendFileSync(path.join(sshd.dir, "authorized_keys"), readFileSync(path.join(keyDir, "key.pub")));
            const rekeyed = { ...ns, connection: { ...sshd.connection, privateKey: readFileSync(path.join(keyDir, "key"), "utf8") } };
            assert.deepEqual((await handlers.Netns.diff!(made[0].id, made[0].outs, rekeyed)).replaces, []);
            const inode = await sshd.exec(["stat", "-c", "%i", "/run/netns/rns1"]);
            const loFlags = async () => /<([^>]*)>/.exec(await sshd.exec(["ip", "-n", "rns1", "-br", "link", "show", "lo"]))?.[1].split(",");
            await sshd.exec(["ip", "-n", "rns1", "link", "set", "dev", "lo", "down"]);
            assert.ok(!(await loFlags())?.includes("UP"));
            await handlers.Netns.update!(made[0].id, made[0].outs, rekeyed);
            assert.equal(await sshd.exec(["stat", "-c", "%i", "/run/netns/rns1"]), inode, "the same namespace");
            assert.ok((await loFlags())?.includes("UP"), "lo brought up again by the update, over the new key");
        } finally {
            rmSync(keyDir, { recursive: true, force: true });
        }
        // A failing remote command names the command (through ssh), never the key.
        const err = await handlers.Route.create({ ...route, gateway: "10.77.77.77" }).then(() => undefined, (e) => e);
        assert.ok(err.cause instanceof CommandError && /^gateway 10\.77\.77\.77 is not reachable in namespace "rns1".*command `ssh 10\.77\.0\.2 -- LC_ALL=C 'ip' '-n' 'rns1' .*` \(reading: .*\) failed with exit code 1: Error: Nexthop has invalid gateway/.test(err.message), String(err));
        assert.ok(!err.message.includes(sshd.privateKey.split("\n")[1]));
        for (const m of made.reverse()) await handlers[m.kind].delete!(m.id, m.outs);
        assert.ok(!(await sshd.exec(["ip", "netns", "list"])).includes("rns1"), "gone from the remote host's own /run/netns");
        assert.equal(await sshd.exec(["ls", "/etc/netns"]), "", "the remote /etc/netns/rns1 went with it (rm -f, rm -d there)");
        assert.equal(await link("rveth0", REMOTE_NETNS), undefined);
    });

    it("examples/bridge-lan on the remote host: up, ping, preview and refresh without changes, destroy, nothing leaked", async function () {
        requireCli(this);
        const before = await snapshotRemote(sshd);
        const project = Project.create("examples/bridge-lan");
        let destroyed = false;
        try {
            await project.init("dev", { connection: JSON.stringify(sshd.connection) });
            await project.pulumi(["up", "--yes"]);
            const made = ((await project.exportStack()).deployment.resources ?? []).filter((r) => r.type.startsWith("pulumi-nodejs:dynamic/"));
            assert.ok(made.length >= 7, `${made.length} resources`);
            assert.ok(await link("br0", REMOTE_NETNS), "br0 is on the remote host");
            assert.equal(await link("br0"), undefined, "br0 is not on this host");
            for (const c of (await project.outputs()).pingChecks as { from: string; to: string }[]) {
                let ok = false;
                for (let i = 0; i < 5 && !ok; i++) ok = await pingRemote(sshd, c.from, c.to);
                assert.ok(ok, `ping from ${c.from} to ${c.to}`);
            }
            await project.pulumi(["preview", "--expect-no-changes"]);
            await project.pulumi(["refresh", "--yes", "--expect-no-changes"]);
            await project.pulumi(["destroy", "--yes"]);
            destroyed = true;
            assert.deepEqual((await project.exportStack()).deployment.resources ?? [], []);
            assert.equal(await snapshotRemote(sshd), before, "destroy left the remote host changed");
            assert.deepEqual((await netnsList()).filter((n) => n !== REMOTE_NETNS), []);
        } finally {
            if (!destroyed) await project.pulumi(["destroy", "--yes"]).catch((e: Error) => console.error(e.message));
            project.remove();
        }
    });
});
