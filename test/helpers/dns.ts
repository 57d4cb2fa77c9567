/**
 * A real DNS server for tests: Debian's dnsmasq, run in the foreground inside a namespace of the
 * sandbox, answering only for the names it is given (no upstream, no /etc/hosts), stopped with the test.
 */
import { ChildProcess, spawn } from "child_process";
import { sh } from "./kernel";

/** True when dnsmasq is installed (`npm test` installs dnsmasq-base). */
export function haveDnsmasq(): boolean {
    return ["/usr/sbin/dnsmasq", "/usr/bin/dnsmasq"].some((p) => require("fs").existsSync(p));
}

/** Starts dnsmasq in `netns` on `listen`:53 serving `records` (name → IPv4 address); resolves once it answers on port 53. */
export async function startDnsServer(netns: string, listen: string, records: Record<string, string>): Promise<{ stop: () => Promise<void> }> {
    const args = [
        "netns", "exec", netns, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
        "--bind-interfaces", `--listen-address=${listen}`, "--user=root", "--group=root", "--pid-file=",
        ...Object.entries(records).map(([name, address]) => `--host-record=${name},${address}`),
    ];
    const child: ChildProcess = spawn("ip", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d) => (stderr += d));
    const kill = () => child.kill("SIGKILL");
    process.once("exit", kill);
    const stop = async () => {
        process.removeListener("exit", kill);
        if (child.exitCode === null) {
            child.kill();
            await new Promise((r) => child.once("exit", r));
        }
    };
    for (let i = 0; i < 100; i++) {
        if (child.exitCode !== null) throw new Error(`dnsmasq exited (${child.exitCode}): ${stderr}`);
        if ((await sh(["ip", "netns", "exec", netns, "ss", "-Hlun", "sport", "=", ":53"])).includes(listen)) return { stop };
        await new Promise((r) => setTimeout(r, 50));
    }
    await stop();
    throw new Error(`dnsmasq did not listen on ${listen}:53 within 5 s: ${stderr}`);
}
