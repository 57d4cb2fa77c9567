/**
 * The main job, as its README line says: `npm run up` at the root of the checkout makes the NAT gateway's
 * stack through the real `pulumi up` (examples/pulumi.sh picks the CLI: here the pinned build), the
 * namespace reaches an address beyond the uplink through the NAT, `npm run preview` shows no
 * changes, `npm run destroy` leaves the host as before. The sandbox's uplink is `up0` (a veth to a
 * `wan` namespace) carrying the default route, so the program finds it as it would on a real host.
 */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../helpers/host";
import { exampleSnapshot, WAN_PROBE, wanDown, wanUp } from "../helpers/examples";
import { ping, sh } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";
import { requireCli } from "./cli";

/** `npm run SCRIPT [-- ARGS]` at the root of the checkout; resolves its exit code and output. */
function npmRun(script: string, env: NodeJS.ProcessEnv, args: string[] = []): Promise<{ code: number; out: string }> {
    const child = spawn("npm", ["run", script, ...(args.length ? ["--", ...args] : [])], {
        cwd: REPO_ROOT, env, stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (out += d));
    return new Promise((resolve) => child.on("close", (code) => resolve({ code: code ?? -1, out })));
}

describePrivileged("e2e: npm run up / preview / destroy at the root of the checkout", function () {
    this.timeout(600000);
    before(function () { requireCli(this); });

    it("makes the NAT gateway's stack through the real pulumi up; the namespace reaches beyond the uplink; destroy restores the host", async () => {
        await wanUp();
        await sh(["ip", "route", "add", "default", "via", WAN_PROBE, "dev", "up0"]);
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-npm-run-up-"));
        const stack = `e2e${process.pid}`;
        const env = {
            ...process.env, PULUMI_BACKEND_URL: `file://${tmp}`, PULUMI_HOME: path.join(tmp, "home"),
            PULUMI_STACK: stack, PULUMI_SKIP_UPDATE_CHECK: "true", NO_COLOR: "1",
        };
        let built = false;
        try {
            const before = await exampleSnapshot();
            const up = await npmRun("up", env);
            built = true;
            assert.equal(up.code, 0, up.out);
            assert.match(up.out, /Try it: {2}ip netns exec breezyfrost ping -c1 /);
            assert.ok(await ping("breezyfrost", "192.168.50.3"), "the namespace reaches its gateway");
            assert.ok(await ping("breezyfrost", WAN_PROBE), "the namespace reaches beyond the uplink through the NAT");

            const preview = await npmRun("preview", env, ["--expect-no-changes"]);
            assert.equal(preview.code, 0, preview.out);

            const destroy = await npmRun("destroy", env);
            assert.equal(destroy.code, 0, destroy.out);
            built = false;
            assert.equal(await exampleSnapshot(), before, "npm run destroy left the host changed");
        } finally {
            if (built) await npmRun("destroy", env);
            fs.rmSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), { force: true });
            fs.rmSync(tmp, { recursive: true, force: true });
            await sh(["ip", "route", "del", "default"]).catch(() => undefined);
            await wanDown();
        }
    });
});
