/**
 * connection.proxyJump (`ssh -J`) against real sshds: the jump host is the second host of
 * test/helpers/sshd.ts (netns `remote`, 10.77.0.2), and the target is a third host, netns
 * `pjtarget` (10.79.0.2), wired only to the jump host (10.79.0.1 ↔ 10.79.0.2): the sandbox root
 * has no route to it, so nothing here can pass without the jump.
 *
 * OpenSSH's -J runs a nested `ssh -l USER [-p PORT] [-J MORE] -F none -W '[%h]:%p' JUMP` that gets
 * none of the -o/-i options: the jump hop authenticates with the agent (connection.agentSocketPath)
 * and verifies the jump host against the default known_hosts files. So, inside the sandbox's
 * private mount namespace only, a tmpfs over /etc/ssh holds ssh_known_hosts (the machine's /etc/ssh
 * is untouched), and a tmpfs hides /root/.ssh if there is one (no key or known_hosts of this
 * machine takes part; none is ever written).
 */
import { strict as assert } from "assert";
import { ChildProcess, spawn } from "child_process";
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "fs";
import * as os from "os";
import * as path from "path";
import { handlers } from "../../provider/handlers";
import type { Connection } from "../../provider/core/schema";
import { targetOf } from "../../provider/linux/target";
import { sh } from "../helpers/kernel";
import { owner } from "../helpers/provider";
import { assertSandbox, describePrivileged, requireTool } from "../helpers/sandbox";
import { haveSshd, REMOTE_ADDRESS, REMOTE_NETNS, startSshd, Sshd, writeSshdConfig } from "../helpers/sshd";

const TARGET_NETNS = "pjtarget";
const TARGET_ADDRESS = "10.79.0.2";
const JUMP_SIDE = "10.79.0.1"; // the jump host's address towards the target
/** Another host's ed25519 key: what the jump host is *not*. */
const OTHER_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMx2Xs0oTnKhGsFJ1kcODxHCbJjWw3XKSj4HIobmDqWx";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The pids of this process's descendants (walking /proc), with their argv. */
function descendants(): Map<number, string[]> {
    const parent = new Map<number, number>();
    const argv = new Map<number, string[]>();
    for (const d of readdirSync("/proc")) {
        if (!/^\d+$/.test(d)) continue;
        try {
            parent.set(Number(d), Number(readFileSync(`/proc/${d}/stat`, "utf8").replace(/^.*\) /s, "").split(" ")[1]));
            argv.set(Number(d), readFileSync(`/proc/${d}/cmdline`, "utf8").split("\0").filter(Boolean));
        } catch {
            // gone meanwhile
        }
    }
    const out = new Map<number, string[]>();
    for (const pid of parent.keys()) {
        for (let p = parent.get(pid); p !== undefined && p > 1; p = parent.get(p)) {
            if (p === process.pid) {
                out.set(pid, argv.get(pid) ?? []);
                break;
            }
        }
    }
    return out;
}

describePrivileged("remote: connection.proxyJump through a jump host to a host only it reaches", function () {
    this.timeout(60000);
    let jump: Sshd;
    let target: ChildProcess | undefined;
    let agent: ChildProcess | undefined;
    let dir: string;
    let targetHostKey: string;
    let agentSocket: string;
    let savedAuthSock: string | undefined;
    let etcSsh = false;
    let rootSsh = false;
    const knownHosts = (...lines: string[]) => writeFileSync("/etc/ssh/ssh_known_hosts", lines.map((l) => `${l}\n`).join(""));
    const jumpKnown = () => `${REMOTE_ADDRESS} ${jump.hostKey}`;
    /** Root on the target, with the target's key (only it is trusted for the target) and the agent for the jump hop. */
    const via = (proxyJump: string, extra: Partial<Connection> = {}): Connection =>
        ({ host: TARGET_ADDRESS, user: "root", privateKey: jump.privateKey, hostKey: targetHostKey, agentSocketPath: agentSocket, proxyJump, ...extra });
    /** argv in the target's sshd namespaces (network and mount: namespaces made over ssh are mounted there). */
    const onTarget = (argv: string[]) => sh(["nsenter", "-t", String(target!.pid), "-m", "-n", "--", ...argv]);
    /** Accepted logins on the target so far. */
    const logins = () => (readFileSync(path.join(dir, "sshd.log"), "utf8").match(/Accepted publickey for root from \S+/g) ?? []);
    const failure = (p: Promise<unknown>) => p.then(() => assert.fail("expected a failure"), (e: Error) => e);

    before(async function () {
        requireTool(this, haveSshd() && existsSync("/usr/bin/ssh-agent"), "openssh-server (/usr/sbin/sshd) and ssh-agent");
        assertSandbox();
        // The caller's agent must not take part: the jump hop gets only connection.agentSocketPath.
        savedAuthSock = process.env.SSH_AUTH_SOCK;
        delete process.env.SSH_AUTH_SOCK;
        jump = await startSshd();
        dir = mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-pj-"));
        for (const argv of [
            ["ip", "netns", "add", TARGET_NETNS],
            ["ip", "-n", TARGET_NETNS, "link", "set", "lo", "up"],
            ["ip", "-n", REMOTE_NETNS, "link", "add", "pjv0", "type", "veth", "peer", "name", "eth0", "netns", TARGET_NETNS],
            ["ip", "-n", REMOTE_NETNS, "addr", "add", `${JUMP_SIDE}/24`, "dev", "pjv0"],
            ["ip", "-n", REMOTE_NETNS, "link", "set", "pjv0", "up"],
            ["ip", "-n", TARGET_NETNS, "addr", "add", `${TARGET_ADDRESS}/24`, "dev", "eth0"],
            ["ip", "-n", TARGET_NETNS, "link", "set", "eth0", "up"],
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "test-target", "-f", path.join(dir, "host_key")],
        ]) await sh(argv);
        targetHostKey = readFileSync(path.join(dir, "host_key.pub"), "utf8").trim();
        writeFileSync(path.join(dir, "authorized_keys"), `${jump.publicKey}\n`, { mode: 0o600 });
        // Port 2222 too, as a hop of its own (a last hop equal to the target is a "jumphost loop").
        writeSshdConfig(dir, [`${TARGET_ADDRESS}:22`, `${TARGET_ADDRESS}:2222`]);
        // The log goes to a file (not a pipe of ours); the pid file is written once sshd listens.
        target = spawn("ip", ["netns", "exec", TARGET_NETNS, "/usr/sbin/sshd", "-D", "-E", path.join(dir, "sshd.log"), "-f", path.join(dir, "sshd_config")], { stdio: "ignore" });
        for (let i = 0; i < 200 && !existsSync(path.join(dir, "sshd.pid")); i++) await sleep(25);
        assert.ok(existsSync(path.join(dir, "sshd.pid")), `the target's sshd did not start: ${readFileSync(path.join(dir, "sshd.log"), "utf8")}`);
        // An agent holding the test key: the jump hop's only way in.
        agentSocket = path.join(dir, "agent.sock");
        agent = spawn("ssh-agent", ["-D", "-a", agentSocket], { stdio: "ignore" });
        for (let i = 0; i < 200 && !existsSync(agentSocket); i++) await sleep(10);
        writeFileSync(path.join(dir, "client_key"), jump.privateKey, { mode: 0o600 });
        await sh(["ssh-add", "-q", path.join(dir, "client_key")], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } });
        // Mounted after the sshds started (they keep the real /etc/ssh): the jump hop's known_hosts.
        await sh(["mount", "-t", "tmpfs", "-o", "mode=0755", "tmpfs-pulumi-netns", "/etc/ssh"]);
        etcSsh = true;
        if (existsSync("/root/.ssh")) {
            await sh(["mount", "-t", "tmpfs", "-o", "mode=0700", "tmpfs-pulumi-netns", "/root/.ssh"]);
            rootSsh = true;
        }
    });

    after(async () => {
        agent?.kill();
        if (target) {
            target.kill();
            if (target.exitCode === null && target.signalCode === null) await new Promise((r) => target!.once("exit", r));
        }
        // Session processes of masters still open (ControlPersist): every process of the target goes.
        for (const pid of (await sh(["ip", "netns", "pids", TARGET_NETNS]).catch(() => "")).split("\n").filter(Boolean)) {
            try {
                process.kill(Number(pid), "SIGKILL");
            } catch {
                // already gone
            }
        }
        await sh(["ip", "netns", "del", TARGET_NETNS]).catch(() => undefined);
        if (etcSsh) await sh(["umount", "/etc/ssh"]).catch((e: Error) => console.error(e.message));
        if (rootSsh) await sh(["umount", "/root/.ssh"]).catch((e: Error) => console.error(e.message));
        await jump?.stop();
        if (dir) rmSync(dir, { recursive: true, force: true });
        if (savedAuthSock !== undefined) process.env.SSH_AUTH_SOCK = savedAuthSock;
    });

    it("without proxyJump the target cannot be reached (so the tests below prove the jump)", async () => {
        const { proxyJump: _j, ...direct } = via("-");
        const err = await failure(targetOf({ connection: direct }).run(["true"]));
        assert.match(err.message, /^cannot connect to root@10\.79\.0\.2: the host could not be reached over ssh; .*Network is unreachable/s);
    });

    it("runs commands on the target through the jump host, multiplexed over one connection", async () => {
        knownHosts(jumpKnown());
        const t = targetOf({ connection: via(`root@${REMOTE_ADDRESS}`) });
        const before = logins().length;
        // The TCP connection the target's sshd saw came from the jump host's side of the wire.
        assert.match((await t.run(["printenv", "SSH_CONNECTION"])).stdout, new RegExp(`^${JUMP_SIDE.replace(/\./g, "\\.")} \\d+ ${TARGET_ADDRESS.replace(/\./g, "\\.")} 22$`));
        const addrs = await Promise.all(Array.from({ length: 12 }, () => t.run(["ip", "-4", "-o", "addr", "show", "dev", "eth0"])));
        for (const r of addrs) assert.match(r.stdout, /inet 10\.79\.0\.2\/24/);
        assert.deepEqual(logins().slice(before), [`Accepted publickey for root from ${JUMP_SIDE}`], "one authentication for every command (the master)");
    });

    it("a resource through the jump host: created, read and deleted on the target; the id names the target", async () => {
        knownHosts(jumpKnown());
        const connection = via(`root@${REMOTE_ADDRESS}`);
        const ns = await handlers.Netns.check!({}, { name: "pjns", owner: owner("Netns", "pjns"), connection });
        assert.deepEqual(ns.failures ?? [], []);
        const made = await handlers.Netns.create(ns.inputs);
        try {
            assert.ok(made.id.startsWith(`ssh://root@${TARGET_ADDRESS}/`), made.id);
            assert.equal(made.outs.connection.proxyJump, `root@${REMOTE_ADDRESS}`);
            // /run/netns is one tmpfs for every host here; the namespace is mounted (usable) on the target only.
            assert.match(await onTarget(["ip", "netns", "exec", "pjns", "ip", "-o", "link", "show", "lo"]), /^1: lo:/, "pjns is on the target");
            await assert.rejects(jump.exec(["ip", "netns", "exec", "pjns", "true"]), "and not on the jump host");
            assert.deepEqual((await handlers.Netns.read!(made.id, made.outs)).props, made.outs);
        } finally {
            await handlers.Netns.delete!(made.id, made.outs);
        }
        assert.ok(!(await onTarget(["ip", "netns", "list"])).includes("pjns"));
    });

    it("several hops, with a port: `root@JUMP,root@TARGET:2222` reaches the target (port 22) through its own port 2222", async () => {
        // The target as the second hop is verified like the jump host: through the default known_hosts.
        knownHosts(jumpKnown(), `[${TARGET_ADDRESS}]:2222 ${targetHostKey}`);
        const t = targetOf({ connection: via(`root@${REMOTE_ADDRESS},root@${TARGET_ADDRESS}:2222`) });
        assert.match((await t.run(["printenv", "SSH_CONNECTION"])).stdout, /^10\.79\.0\.2 \d+ 10\.79\.0\.2 22$/);
    });

    it("an unknown or changed jump host key fails at once, trusts nothing and writes no known_hosts", async () => {
        // Connections not used above (another proxyJump spelling each): no master of theirs exists yet.
        for (const [lines, jumpSpec] of [[[], `root@${REMOTE_ADDRESS}:22`], [[`${REMOTE_ADDRESS} ${OTHER_KEY}`], `${REMOTE_ADDRESS}`]] as const) {
            knownHosts(...lines);
            const started = Date.now();
            const err = await failure(targetOf({ connection: via(jumpSpec) }).run(["true"]));
            assert.ok(Date.now() - started < 10000, "no prompt, no wait");
            // The jump hop's own "Host key verification failed." goes to /dev/null (ControlPersist): ssh only
            // sees the proxy close, so the message names the jump host and what it needs.
            assert.match(err.message, /^cannot connect to root@10\.79\.0\.2: the jump host \(proxyJump [^)]*\) closed the connection: a jump host must be in ~\/\.ssh\/known_hosts.*command `ssh 10\.79\.0\.2 -- true` failed with exit code 255: kex_exchange_identification: Connection closed by remote host$/s);
            assert.equal(readFileSync("/etc/ssh/ssh_known_hosts", "utf8"), lines.map((l) => `${l}\n`).join(""), "known_hosts unchanged");
            assert.deepEqual(rootSsh ? readdirSync("/root/.ssh") : existsSync("/root/.ssh"), rootSsh ? [] : false, "nothing written to ~/.ssh");
        }
    });

    it("the jump hop authenticates with the agent only: connection.privateKey is not offered to the jump host", async () => {
        knownHosts(jumpKnown());
        const { agentSocketPath: _a, ...noAgent } = via(`root@${REMOTE_ADDRESS}`);
        const jumpLog = () => readFileSync(path.join(jump.dir, "sshd.log"), "utf8").match(/Connection closed by authenticating user root .*\[preauth\]/g) ?? [];
        const [refused, accepted] = [jumpLog().length, logins().length];
        const err = await failure(targetOf({ connection: noAgent }).run(["true"]));
        // The jump host authorizes this very key (the same authorized_keys as the target's), so its
        // refusal shows the key was not offered: the nested ssh had no agent and no ~/.ssh/id_*. The
        // message says what a jump host authenticates with. sshd may log the refusal after the client
        // has already given up (its session process writes it as it exits): wait for it, 5 s at most.
        for (const deadline = Date.now() + 5000; jumpLog().length <= refused && Date.now() < deadline; ) await sleep(50);
        assert.equal(jumpLog().length, refused + 1, "the jump host refused one login");
        assert.equal(logins().length, accepted, "the target saw no login");
        assert.match(err.message, /^cannot connect to root@10\.79\.0\.2: the jump host \(proxyJump [^)]*\) closed the connection: a jump host must be in ~\/\.ssh\/known_hosts.*authenticates with the ssh-agent \(agentSocketPath\) or ~\/\.ssh\/id_\*, not privateKey; .*kex_exchange_identification: Connection closed by remote host$/s);
    });

    // Every hop gets BatchMode and StrictHostKeyChecking (`-F FILE`: -J hands -F, and only -F, to each
    // hop): the jump hop's nested ssh never asks SSH_ASKPASS (there for the target's passphrase) to
    // accept an unknown host, which once answered with the passphrase ~1000 times a second until the
    // connect timeout, and would have trusted the jump host for a passphrase "yes".
    it("a passphrase-protected key and an unknown jump host: fails at once, never answers the host-key prompt with the passphrase", async () => {
        const key = path.join(dir, "encrypted");
        await sh(["ssh-keygen", "-q", "-t", "ed25519", "-N", "not the word", "-C", "encrypted", "-f", key]);
        appendFileSync(path.join(dir, "authorized_keys"), readFileSync(`${key}.pub`));
        knownHosts();
        const seen = new Set(descendants().keys());
        const attempt = targetOf({ connection: via(`root@${REMOTE_ADDRESS}`, { privateKey: readFileSync(key, "utf8"), privateKeyPassword: "not the word" }) }).run(["true"]);
        const outcome = await Promise.race([attempt.then(() => "connected", (e: Error) => e), sleep(10000).then(() => "hung")]);
        if (outcome === "hung") {
            // The ssh processes this attempt started (by pid), so mocha can exit.
            for (const [pid, argv] of descendants()) {
                if (seen.has(pid) || argv[0] !== "ssh") continue;
                try {
                    process.kill(pid, "SIGKILL");
                } catch {
                    // already gone
                }
            }
        }
        assert.ok(outcome instanceof Error, `expected a prompt failure, got: ${String(outcome)}`);
        assert.match(outcome.message, /^cannot connect to root@10\.79\.0\.2: /);
        assert.equal(readFileSync("/etc/ssh/ssh_known_hosts", "utf8"), "");
    });
});
