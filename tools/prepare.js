#!/usr/bin/env node
// npm's `prepare` script: builds dist/ (tsc), so that `npm install <git url>` and `npm install
// <path to a checkout>` give a working package, not one without its compiled code. npm installs a
// git dependency's devDependencies before `prepare`; for a folder it does not, so when TypeScript
// is missing here this first runs `npm ci` in the folder (its devDependencies, no scripts).
"use strict";
const { execFileSync } = require("child_process");
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
execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: root, stdio: "inherit" });
