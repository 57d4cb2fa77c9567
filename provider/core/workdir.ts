/**
 * The folder Pulumi runs dynamic providers in, checked before an Automation API inline program
 * registers its first resource.
 *
 * The engine starts the dynamic-provider plugin (`pulumi-resource-pulumi-nodejs`, a shell script
 * running `node -e "require.resolve('@pulumi/pulumi/cmd/dynamic-provider')"`) in the project's
 * folder: its `main` when the project file sets one (a folder, or a file's folder), else the folder
 * of the project file (pkg/engine/project.go, getPwdMain). A program run by `pulumi up` is started
 * in that same folder and loads `@pulumi/pulumi` itself, so it always resolves there. An inline
 * program runs in the process that called the Automation API instead, and `LocalWorkspace` writes
 * the project file with `main: process.cwd()` unless given `projectSettings`: from a service
 * started in a folder without `node_modules` (a systemd unit's `/`, a container's `/app` holding
 * only the bundle) the plugin cannot start, and every resource fails with
 * `Cannot find module '@pulumi/pulumi/cmd/dynamic-provider'` and no hint of the fix.
 *
 * {@link checkDynamicProviderFolder} finds that folder as the engine does: the engine serves the
 * program's resource monitor, so the process listening on the monitor's port is the CLI; its
 * working directory is the workspace's `workDir`, where the CLI finds the project file (searching
 * upwards, Pulumi.json, .yaml, .yml), whose `main` gives the folder; the CLI's `NODE_PATH`, which
 * the plugin inherits, is searched too. Only a positive finding fails: when any step cannot be
 * read (another OS, a CLI in a container, a `main` written in a YAML form not read here) nothing
 * is said, and the engine's own error remains.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { findListeningProcess, readProcessCwd, readProcessEnv } from "../linux/proc";

/** What the dynamic-provider plugin resolves (its shell script, and @pulumi/pulumi's own). */
const DYNAMIC_PROVIDER_MODULE = "@pulumi/pulumi/cmd/dynamic-provider";

/** The project file names the CLI looks for, in its order (sdk/go/common/encoding, Exts). */
const PROJECT_FILES = ["Pulumi.json", "Pulumi.yaml", "Pulumi.yml"];

/** Monitor address → the message for it (undefined: the folder is fine, or could not be told). */
const checked = new Map<string, string | undefined>();

/**
 * The resource monitor's address when this program runs inline (inside the Automation API's
 * language server, which keeps the run's settings in an async-local store, shared by every copy
 * of @pulumi/pulumi through `globalThis.asyncLocalStorage`); undefined under `pulumi up`.
 */
function inlineMonitorAddress(): string | undefined {
    const als = (globalThis as { asyncLocalStorage?: { getStore(): unknown } }).asyncLocalStorage;
    const store = als?.getStore() as { settings?: { options?: { monitorAddr?: unknown } } } | undefined;
    const addr = store?.settings?.options?.monitorAddr;
    return typeof addr === "string" ? addr : undefined;
}

/** The project file the CLI uses when started in `dir`: the first of PROJECT_FILES in it or a parent. */
function findProjectFile(dir: string): string | undefined {
    for (let d = dir; ; d = path.dirname(d)) {
        for (const name of PROJECT_FILES) {
            const file = path.join(d, name);
            try {
                if (fs.statSync(file).isFile()) return file;
            } catch {
                // not here
            }
        }
        if (path.dirname(d) === d) return undefined;
    }
}

/**
 * The `main` of a project file: "" when it has none, undefined when it cannot be told (a YAML
 * form other than a plain or quoted scalar on the key's line, a file that does not parse).
 */
export function projectMain(file: string, text: string): string | undefined {
    if (file.endsWith(".json")) {
        try {
            const main = (JSON.parse(text) as { main?: unknown }).main;
            return main === undefined ? "" : typeof main === "string" ? main : undefined;
        } catch {
            return undefined;
        }
    }
    const lines = text.split("\n").filter((l) => /^main\s*:/.test(l));
    if (lines.length === 0) return "";
    if (lines.length > 1) return undefined;
    const value = lines[0].replace(/^main\s*:\s*/, "").replace(/\r$/, "");
    let m: RegExpExecArray | null;
    if ((m = /^'((?:[^']|'')*)'\s*(#.*)?$/.exec(value))) return m[1].replace(/''/g, "'");
    if ((m = /^"([^"\\]*)"\s*(#.*)?$/.exec(value))) return m[1];
    const plain = value.replace(/\s+#.*$/, "").trim();
    if (plain === "" || /^[|>&*!{[\]'"%@`#]/.test(plain)) return undefined;
    return plain;
}

/** The folder the engine starts plugins in, for project file `file` (pkg/engine/project.go, getPwdMain). */
function pluginFolder(file: string, main: string): string | undefined {
    const root = path.dirname(file);
    if (main === "") return root;
    const abs = path.resolve(root, main);
    try {
        return fs.statSync(abs).isDirectory() ? abs : path.dirname(abs);
    } catch {
        return undefined; // the CLI fails on it itself ("project 'main' could not be read")
    }
}

/** Whether this program runs inline, in the process that called the Automation API (not started by `pulumi up`). */
export function isInlineProgram(): boolean {
    return inlineMonitorAddress() !== undefined;
}

/** Whether `node` started in `folder` with `nodePath` resolves the dynamic-provider host. */
function resolvesDynamicProvider(folder: string, nodePath: string | undefined): boolean {
    const extra = (nodePath ?? "").split(path.delimiter).filter((p) => p !== "");
    try {
        require.resolve(DYNAMIC_PROVIDER_MODULE, { paths: [folder, ...extra] });
        return true;
    } catch {
        return false;
    }
}

/** Why the dynamic providers of the deployment served at `addr` cannot start, or undefined. */
function diagnose(addr: string): string | undefined {
    const port = /:(\d+)$/.exec(addr);
    if (!port) return undefined;
    const pid = findListeningProcess(Number(port[1]));
    const cwd = pid === undefined ? undefined : readProcessCwd(pid);
    const env = pid === undefined ? undefined : readProcessEnv(pid);
    if (cwd === undefined || env === undefined) return undefined;
    const file = findProjectFile(cwd);
    if (file === undefined) return undefined;
    let main: string | undefined;
    try {
        main = projectMain(file, fs.readFileSync(file, "utf8"));
    } catch {
        return undefined;
    }
    const folder = main === undefined ? undefined : pluginFolder(file, main);
    if (folder === undefined || resolvesDynamicProvider(folder, env.NODE_PATH)) return undefined;
    const where = main === "" ? `the folder of its project file ${file}` : `the 'main' of its project file ${file}`;
    return `pulumi-netns: Pulumi runs this program's dynamic providers with Node.js in ${folder} (${where}), ` +
        `where '${DYNAMIC_PROVIDER_MODULE}' cannot be found, so no pulumi-netns resource can be made. ` +
        `An Automation API inline program gets main: process.cwd() unless told otherwise: pass ` +
        `projectSettings: { name, runtime: "nodejs", main: <a folder whose node_modules holds @pulumi/pulumi and pulumi-netns> } ` +
        `to LocalWorkspace.createOrSelectStack(...) (workDir alone does not change it), or start the process in such a folder.`;
}

/**
 * Throws (a RunError: the message without a stack trace), before a resource registers, when this is an inline program whose dynamic providers
 * cannot start (see the module comment); a normal `pulumi up` program returns at once. Checked
 * once per deployment (monitor address).
 */
export function checkDynamicProviderFolder(): void {
    const addr = inlineMonitorAddress();
    if (addr === undefined) return;
    if (!checked.has(addr)) checked.set(addr, diagnose(addr));
    const message = checked.get(addr);
    if (message !== undefined) throw new pulumi.RunError(message);
}
