#!/usr/bin/env node
// `npm run build` and npm's `prepare` script: builds a fresh dist/ (tsc, then the plugin's schema: tools/schema.js), so that `npm install <git url>` and `npm install
// <path to a checkout>` give a working package, not one without its compiled code. npm installs a
// git dependency's devDependencies before `prepare`; for a folder it does not, so when TypeScript
// is missing here this first runs `npm ci` in the folder (its devDependencies, no scripts).
"use strict";
const { execFileSync } = require("child_process");
const fs = require("fs");
const path = require("path");

const root = path.resolve(__dirname, "..");
const findTsc = () => {
    try {
        return require.resolve("typescript/bin/tsc", { paths: [root] });
    } catch {
        return undefined;
    }
};

let tsc = findTsc();
if (!tsc) {
    console.error(`pulumi-netns: TypeScript is not installed in ${root}: installing the checkout's devDependencies (npm ci) to build it`);
    // The outer install's settings (e.g. --omit=dev, --install-links) are not this install's.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_config_(omit|include|production|install_links|global|prefix|save)/i.test(k)));
    execFileSync("npm", ["ci", "--ignore-scripts", "--include=dev", "--no-audit", "--no-fund"], { cwd: root, stdio: ["ignore", "inherit", "inherit"], env });
    tsc = findTsc();
}
// A fresh dist/: output of a source file renamed or removed since the last build must not stay behind (a
// stale dist/provider/scan.js would shadow dist/provider/scan/index.js for require("./scan")).
fs.rmSync(path.join(root, "dist"), { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
execFileSync(process.execPath, [path.join(__dirname, "schema.js")], { cwd: root, stdio: "inherit" });
