/**
 * Sandbox detection for privileged tests. Privileged code (anything touching
 * netns/links/routes/iptables/sysctls) must only run inside the private
 * network+mount namespace created by test/run.sh.
 */
import * as fs from "fs";

/** The netns to compare against: PID 1's if readable, else the one run.sh recorded before `unshare`. */
function hostNetns(): string | undefined {
    try {
        return fs.readlinkSync("/proc/1/ns/net");
    } catch {
        // Some VMs/containers deny reading /proc/1/ns even to root.
        return process.env.PULUMI_NETNS_HOST_NETNS || undefined;
    }
}

/** True only if run.sh's sandbox marker is set, we're root, and our netns differs from the host's. */
export function inSandbox(): boolean {
    if (process.env.PULUMI_NETNS_SANDBOX !== "1") return false;
    if (typeof process.getuid !== "function" || process.getuid() !== 0) return false;
    const host = hostNetns();
    try {
        return host !== undefined && fs.readlinkSync("/proc/self/ns/net") !== host;
    } catch {
        return false;
    }
}

/** Throws unless inSandbox(); call before any privileged side effect. */
export function assertSandbox(): void {
    if (!inSandbox()) {
        throw new Error("refusing to run privileged code outside the test sandbox (use `npm test` as root)");
    }
}

/**
 * Like mocha `describe`, but outside the sandbox the suite is registered with
 * `describe.skip` (its body only registers tests/hooks; none run). Under CI=true
 * an unsandboxed run registers a failing test instead, since CI must run them.
 */
export function describePrivileged(title: string, fn: (this: Mocha.Suite) => void): Mocha.Suite | void {
    if (inSandbox()) return describe(title, fn);
    if (process.env.CI === "true") {
        return describe(title, () => {
            it("must run inside the privileged sandbox under CI", () => {
                throw new Error("privileged suite not sandboxed under CI=true (run `npm test` as root)");
            });
        });
    }
    return describe.skip(`${title} [SKIPPED: not in privileged sandbox]`, fn);
}

/**
 * For a suite's `before`: skips the suite when a system tool it needs is not installed (`ok`
 * false), saying which; under CI=true that is a failure instead (`npm test` installs it as root).
 */
export function requireTool(ctx: Mocha.Context, ok: boolean, what: string): void {
    if (ok) return;
    if (process.env.CI === "true") throw new Error(`${what} is not installed, and CI must run this suite (npm test installs it as root with apt-get)`);
    console.warn(`SKIPPING: ${what} is not installed (npm test installs it as root with apt-get)`);
    ctx.skip();
}
