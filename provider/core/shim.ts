import * as path from "path";

/**
 * The `__provider` input of a dynamic resource of `kind`: the text of a module that the
 * dynamic-provider host (`@pulumi/pulumi/cmd/dynamic-provider`) loads with `require-from-string`
 * and calls `handler()` on, for the provider object.
 *
 * It is written here rather than serialized from a closure: two strings are all it needs, the kind
 * and the absolute path of the compiled handler table, so it is a few hundred bytes instead of the
 * 2.3 KB a serialized closure takes (stored in every resource's inputs and outputs). It loads the
 * handlers with a plain `require` of that path; if the checkout moved since the state was written,
 * it falls back to the installed package by name, resolved from the folder the host runs in (the
 * program's).
 */
export function providerSource(kind: string): string {
    const entry = path.join(__dirname, "..", "handlers");
    return (
        `exports.handler = () => { let m; try { m = require(${JSON.stringify(entry)}); } ` +
        `catch (err) { try { m = require("pulumi-netns/handlers"); } catch { throw err; } } ` +
        `return m.handlers[${JSON.stringify(kind)}]; };`
    );
}
