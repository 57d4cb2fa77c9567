import * as fs from "fs";
import Module = require("module");
import * as path from "path";

/** The compiled handler table this copy of the package serves. */
const ENTRY = path.join(__dirname, "..", "handlers");

/** The name the dynamic-provider host loads the handler table by: the package's `./handlers` export. */
const BY_NAME = "pulumi-netns/handlers";

/** The parts of Node's `Module` that `require-from-string` (the host's loader) resolves with. */
const NodeModule = Module as unknown as {
    new (id: string): { filename: string; paths: string[] };
    _nodeModulePaths(folder: string): string[];
    _resolveFilename(request: string, parent: object): string;
};

/**
 * Whether the dynamic-provider host, started in `folder`, finds this very copy of the handlers by
 * name. The host loads the module text of {@link providerSource} with `require-from-string`: a
 * module with no file name whose search paths are `folder`'s `node_modules` and up, which is
 * resolved here the same way (a plain `require.resolve` would answer from this file's own package,
 * which may resolve its own name, and the host's module cannot). The host runs in the project's
 * folder (its `main`), where a program run by `pulumi up` starts too, so `folder` is the program's
 * `process.cwd()`.
 */
export function resolvesByName(folder: string): boolean {
    try {
        const probe = new NodeModule("");
        probe.filename = "";
        probe.paths = NodeModule._nodeModulePaths(folder);
        return fs.realpathSync(NodeModule._resolveFilename(BY_NAME, probe)) === fs.realpathSync(`${ENTRY}.js`);
    } catch {
        return false;
    }
}

/** {@link resolvesByName}, by folder, asked once each. */
const byName = new Map<string, boolean>();

/**
 * The `__provider` input of a dynamic resource of `kind`: the text of a module that the
 * dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) loads with `require-from-string`
 * and calls `handler()` on, for the provider object. It is stored in every resource's inputs and
 * outputs, so it is kept short; it is written here rather than serialized from a closure (2.3 KB).
 *
 * - When the host would load this copy of the package by name (the program's `node_modules`
 *   holds it, the usual case), the text only names it: about 70 bytes, and still right after the
 *   project moves or the package is upgraded.
 * - Otherwise (an Automation API inline program, whose host runs in another folder; a program
 *   that loads the package by path), it names the absolute path of the compiled handler table, and
 *   falls back to the package by name if that path is gone (the checkout moved since the state was
 *   written).
 */
export function providerSource(kind: string, inline = false): string {
    const folder = process.cwd();
    if (!inline && !byName.has(folder)) byName.set(folder, resolvesByName(folder));
    if (!inline && byName.get(folder)) return `exports.handler=()=>require("${BY_NAME}").handlers.${kind};`;
    return (
        `exports.handler = () => { let m; try { m = require(${JSON.stringify(ENTRY)}); } ` +
        `catch (err) { try { m = require("${BY_NAME}"); } catch { throw err; } } ` +
        `return m.handlers[${JSON.stringify(kind)}]; };`
    );
}
