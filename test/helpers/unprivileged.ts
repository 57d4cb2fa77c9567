/**
 * Runs provider handlers as an unprivileged user (uid 65534, no groups, no capabilities, via
 * `setpriv`), wherever the checkout is. That user may not be able to traverse the checkout (a
 * clone under `mktemp -d` is inside a 0700 directory), so the handlers and what they load at run
 * time are copied into a fresh world-readable directory under /tmp, and the scripts are written
 * there too. argv arrays only, no shell.
 */
import * as fs from "fs";
import * as path from "path";
import { REPO_ROOT } from "./host";
import { sh } from "./kernel";

/** The unprivileged user and group (nobody/nogroup on Debian). */
export const UNPRIVILEGED_UID = 65534;

/** A world-readable copy of the handlers (see copyHandlers). */
export interface HandlersCopy {
    /** The copy's root (the checkout's layout: package.json, dist/provider, node_modules/…). */
    dir: string;
    /** The copied dist/provider/handlers.js. */
    handlers: string;
}

/** Prints, as JSON, every file a plain `require` of argv[1] loads (its require.cache). */
const LIST_LOADED = "require(process.argv[1]); console.log(JSON.stringify(Object.keys(require.cache)));";

/** The files under REPO_ROOT that a root node process loads when it requires dist/provider/handlers.js. */
async function loadedFiles(): Promise<string[]> {
    const loaded = JSON.parse(await sh([process.execPath, "-e", LIST_LOADED, path.join(REPO_ROOT, "dist/provider/handlers.js")])) as string[];
    return loaded.filter((f) => f.startsWith(REPO_ROOT + path.sep));
}

/** Every package.json from each file's directory up to REPO_ROOT (node reads them to resolve and to tell CJS from ESM). */
function packageJsons(files: string[]): string[] {
    const dirs = new Set<string>();
    for (const file of files) {
        for (let dir = path.dirname(file); dir.startsWith(REPO_ROOT) && !dirs.has(dir); dir = path.dirname(dir)) dirs.add(dir);
    }
    return [...dirs].map((dir) => path.join(dir, "package.json")).filter((f) => fs.existsSync(f));
}

/** Makes a tree readable by everyone: directories 0755, files 0644 (whatever the umask made them). */
function makeWorldReadable(root: string): void {
    fs.chmodSync(root, 0o755);
    for (const entry of fs.readdirSync(root, { withFileTypes: true })) {
        const p = path.join(root, entry.name);
        if (entry.isDirectory()) makeWorldReadable(p);
        else if (entry.isFile()) fs.chmodSync(p, 0o644);
    }
}

/**
 * Copies what the handlers need at run time into a fresh 0755 directory under /tmp (world-
 * traversable, unlike a private TMPDIR): all of dist/provider, and from package.json and
 * node_modules exactly the files a root process loads with handlers.js (zod, and @pulumi/pulumi
 * with its dependencies, which the resource classes beside the handlers import), plus the
 * package.json files on their way. The handlers require nothing later but node's builtins.
 */
export async function copyHandlers(): Promise<HandlersCopy> {
    const files = await loadedFiles();
    const dir = fs.mkdtempSync(path.join("/tmp", "pulumi-netns-unprivileged-"));
    try {
        fs.cpSync(path.join(REPO_ROOT, "dist/provider"), path.join(dir, "dist/provider"), { recursive: true });
        for (const file of [...files, ...packageJsons(files)]) {
            const to = path.join(dir, path.relative(REPO_ROOT, file));
            fs.mkdirSync(path.dirname(to), { recursive: true });
            fs.copyFileSync(file, to);
        }
        makeWorldReadable(dir);
    } catch (err) {
        fs.rmSync(dir, { recursive: true, force: true });
        throw err;
    }
    return { dir, handlers: path.join(dir, "dist/provider/handlers.js") };
}

/** Removes a copy made by copyHandlers. */
export function removeHandlersCopy(copy: HandlersCopy): void {
    fs.rmSync(copy.dir, { recursive: true, force: true });
}

let scripts = 0;

/**
 * Runs `body` (JavaScript, inside an async function, with `handlers` bound to the copy's
 * handlers) as uid 65534 with no groups and no capabilities; resolves its stdout. The script is
 * written into the copy, mode 0644 whatever the umask, so that user can read it.
 */
export async function runUnprivileged(copy: HandlersCopy, body: string): Promise<string> {
    const script = path.join(copy.dir, `script-${++scripts}.js`);
    fs.writeFileSync(script, [
        `const { handlers } = require(${JSON.stringify(copy.handlers)});`,
        `(async () => {\n${body}\n})().catch((err) => { console.error(err); process.exit(1); });`,
    ].join("\n"));
    fs.chmodSync(script, 0o644);
    const id = String(UNPRIVILEGED_UID);
    return sh(["setpriv", `--reuid=${id}`, `--regid=${id}`, "--clear-groups", "--inh-caps=-all", "--", process.execPath, script]);
}

/**
 * For a suite: copyHandlers in `before`, removeHandlersCopy in `after`; `run(body)` is
 * runUnprivileged against that copy. Call inside a describe.
 */
export function withUnprivilegedHandlers(): { run(body: string): Promise<string> } {
    let copy: HandlersCopy | undefined;
    before(async () => {
        copy = await copyHandlers();
    });
    after(() => {
        if (copy !== undefined) removeHandlersCopy(copy);
        copy = undefined;
    });
    return {
        async run(body: string): Promise<string> {
            if (copy === undefined) throw new Error("withUnprivilegedHandlers: run used outside the suite's tests");
            return runUnprivileged(copy, body);
        },
    };
}
