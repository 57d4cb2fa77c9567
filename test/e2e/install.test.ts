/**
 * Installing the package as the README says, from a checkout that was never built: from its git
 * URL, and from its folder with --install-links. npm's `prepare` (tools/prepare.js) builds it;
 * without it, `require("pulumi-netns")` fails with "Cannot find module". Offline, from npm's cache
 * (filled by `npm ci`): the sandbox has no network.
 */
import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "fs";
import { tmpdir } from "os";
import * as path from "path";
import { REPO_ROOT } from "../helpers/host";

describe("e2e: npm install from a git URL or a folder builds the package (prepare)", function () {
    this.timeout(300000);
    let work: string;
    let clone: string;
    before(function () {
        if (spawnSync("git", ["-C", REPO_ROOT, "rev-parse", "HEAD"]).status !== 0) {
            if (process.env.CI === "true") throw new Error(`${REPO_ROOT} is not a git checkout`);
            console.warn("SKIPPING: the checkout is not a git repository");
            this.skip();
        }
        work = mkdtempSync(path.join(tmpdir(), "pulumi-netns-install-"));
        clone = path.join(work, "pulumi-netns");
        execFileSync("git", ["clone", "-q", REPO_ROOT, clone]); // what is committed, never built
    });
    after(() => work && rmSync(work, { recursive: true, force: true }));

    /** A new npm project that installs `spec` (and the peer dependency), then loads the package from it. */
    function installAndLoad(name: string, spec: string[]): string {
        const dir = path.join(work, name);
        mkdirSync(dir);
        writeFileSync(path.join(dir, "package.json"), JSON.stringify({ name, version: "1.0.0", private: true }));
        const npm = spawnSync("npm", ["install", "--offline", "--no-audit", "--no-fund", ...spec, "@pulumi/pulumi@3.248.0"], { cwd: dir, encoding: "utf8" });
        assert.equal(npm.status, 0, `npm install ${spec.join(" ")} failed:\n${npm.stdout}${npm.stderr}`);
        const load = spawnSync(process.execPath, ["-e", 'const n = require("pulumi-netns"); console.log(typeof n.Netns, typeof n.BridgedNetwork, require.resolve("pulumi-netns/handlers"))'], { cwd: dir, encoding: "utf8" });
        assert.equal(load.status, 0, `require("pulumi-netns") failed:\n${load.stderr}`);
        return load.stdout.trim();
    }

    it("npm install git+file://… builds it (npm installs its devDependencies for prepare)", () => {
        assert.match(installAndLoad("from-git", [`git+file://${clone}`]), /^function function .*node_modules\/pulumi-netns\/dist\/provider\/handlers\.js$/);
    });

    it("npm install --install-links <folder> builds it too (prepare installs the devDependencies itself)", () => {
        assert.match(installAndLoad("from-folder", ["--install-links", clone]), /^function function .*from-folder\/node_modules\/pulumi-netns\/dist\/provider\/handlers\.js$/);
    });
});
