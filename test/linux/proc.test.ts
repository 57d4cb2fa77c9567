/** /proc reads about other processes: who listens on a port, its working directory and environment. */
import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import { findListeningProcess, readProcessCwd, readProcessEnv } from "../../provider/linux/proc";

describe("linux/proc", () => {
    it("finds the process listening on a port, its cwd and its environment", async () => {
        const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-proc-")));
        const script = `require("net").createServer().listen(0, "127.0.0.1", function () { console.log(this.address().port); })`;
        const child = spawn(process.execPath, ["-e", script], { cwd: dir, env: { ...process.env, PROC_TEST_MARK: "x1" }, stdio: ["ignore", "pipe", "inherit"] });
        try {
            const port = await new Promise<number>((resolve) => child.stdout.once("data", (d: Buffer) => resolve(Number(String(d).trim()))));
            assert.equal(findListeningProcess(port), child.pid);
            assert.equal(readProcessCwd(child.pid!), dir);
            assert.equal(readProcessEnv(child.pid!)?.PROC_TEST_MARK, "x1");
            // A port nobody listens on (one just closed), and a process that is gone.
            const free = await new Promise<number>((resolve) => { const s = net.createServer().listen(0, "127.0.0.1", () => { const p = (s.address() as net.AddressInfo).port; s.close(() => resolve(p)); }); });
            assert.equal(findListeningProcess(free), undefined);
        } finally {
            child.kill();
            fs.rmSync(dir, { recursive: true, force: true });
        }
        await new Promise((r) => child.once("exit", r));
        assert.equal(readProcessCwd(child.pid!), undefined);
        assert.equal(readProcessEnv(child.pid!), undefined);
    });
});
