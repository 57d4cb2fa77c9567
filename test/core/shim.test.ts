/**
 * The `__provider` text every dynamic resource stores twice (inputs and outputs): short when the
 * dynamic-provider host finds this copy of the package by name, a path with a fallback otherwise;
 * either way, loaded as the host loads it (`require-from-string`, from the folder it runs in), it
 * gives this package's handlers.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { REPO_ROOT } from "../helpers/host";

/** The compiled shim, as a program loads it (what it compares against is the compiled handler table). */
const shim = require(`${REPO_ROOT}/dist/provider/core/shim`) as typeof import("../../provider/core/shim");
const handlers = require(`${REPO_ROOT}/dist/provider/handlers`).handlers as Record<string, object>;

/** The host's own loader: `require-from-string`, as @pulumi/pulumi resolves it. */
const requireFromString = require(require.resolve("require-from-string", { paths: [path.dirname(require.resolve("@pulumi/pulumi"))] })) as (code: string) => { handler(): object };

/** Loads `text` as the dynamic-provider host does when started in `folder`. */
function loadIn(folder: string, text: string): object {
    const cwd = process.cwd();
    process.chdir(folder);
    try {
        return requireFromString(text).handler();
    } finally {
        process.chdir(cwd);
    }
}

/** A fresh folder; with `pkg`, its node_modules/pulumi-netns is a link to `pkg`. */
function folder(pkg?: string): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pulumi-netns-shim-"));
    if (pkg) {
        fs.mkdirSync(path.join(dir, "node_modules"));
        fs.symlinkSync(pkg, path.join(dir, "node_modules", "pulumi-netns"));
    }
    return dir;
}

describe("core/shim: the dynamic provider each resource stores", () => {
    const made: string[] = [];
    const mk = (pkg?: string) => {
        const dir = folder(pkg);
        made.push(dir);
        return dir;
    };
    after(() => made.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

    it("only names the package when the host, in the program's folder, finds this copy by name", () => {
        const dir = mk(REPO_ROOT);
        assert.equal(shim.resolvesByName(dir), true);
        const cwd = process.cwd();
        process.chdir(dir);
        let text: string;
        try {
            text = shim.providerSource("VethPair");
        } finally {
            process.chdir(cwd);
        }
        assert.equal(text, 'exports.handler=()=>require("pulumi-netns/handlers").handlers.VethPair;');
        assert.equal(loadIn(dir, text), handlers.VethPair);
        const inline = shim.providerSource("VethPair", true);
        assert.ok(inline.includes(JSON.stringify(path.join(REPO_ROOT, "dist", "provider", "handlers"))), "an inline program gets the path");
        assert.equal(loadIn(dir, inline), handlers.VethPair);
    });

    it("names the path, with the package by name as fallback, when the host would not find this copy by name", () => {
        const other = mk();
        fs.mkdirSync(path.join(other, "dist"));
        fs.writeFileSync(path.join(other, "package.json"), JSON.stringify({ name: "pulumi-netns", exports: { "./handlers": "./dist/h.js" } }));
        fs.writeFileSync(path.join(other, "dist", "h.js"), "exports.handlers = { Netns: 'another copy' };");
        // No copy; another copy; the package's own checkout (which resolves its own name, the host's module cannot).
        for (const dir of [mk(), mk(other), REPO_ROOT]) {
            assert.equal(shim.resolvesByName(dir), false, dir);
            const text = shim.providerSource("Netns", true);
            assert.ok(text.includes(JSON.stringify(path.join(REPO_ROOT, "dist", "provider", "handlers"))), text);
            assert.equal(loadIn(dir, text), handlers.Netns, dir);
        }
        // The checkout moved since the state was written: the path is gone, the package is found by name.
        const moved = shim.providerSource("Netns", true).replace(JSON.stringify(path.join(REPO_ROOT, "dist", "provider", "handlers")), '"/nonexistent/handlers"');
        assert.equal(loadIn(mk(REPO_ROOT), moved), handlers.Netns);
        assert.throws(() => loadIn(mk(), moved), /Cannot find module '\/nonexistent\/handlers'/, "nothing to fall back on: the path's own error");
    });
});
