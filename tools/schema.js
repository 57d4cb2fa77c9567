#!/usr/bin/env node
// Part of `npm run build` (after tsc): writes dist/schema.json, the provider plugin's package schema
// (generated from the zod schemas by dist/provider/plugin/schema.js), and dist/descriptions.json, the
// descriptions in it: the doc comments of the classes and of their argument types (`NetnsArgs`…),
// read with TypeScript's type checker, so a property is documented once, where TypeScript users read it.
"use strict";
const fs = require("fs");
const path = require("path");
const ts = require("typescript");

const root = path.resolve(__dirname, "..");
const { kinds } = require(path.join(root, "dist/provider/handlers"));
const { packageSchema, PACKAGE } = require(path.join(root, "dist/provider/plugin/schema"));

const program = ts.createProgram([path.join(root, "provider/index.ts")], { strict: true, target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.CommonJS });
const checker = program.getTypeChecker();
const index = checker.getSymbolAtLocation(program.getSourceFile(path.join(root, "provider/index.ts")));
const exported = new Map(checker.getExportsOfModule(index).map((s) => [s.name, s]));
const text = (parts) => ts.displayPartsToString(parts).replace(/\{@link ([^}]+)\}/g, "`$1`").trim();

/** The doc comment of an exported symbol (through its alias), and those of its type's properties. */
function docs(className, argsName) {
    const out = { properties: {} };
    const cls = exported.get(className);
    if (cls) out.description = text(checker.getAliasedSymbol(cls).getDocumentationComment(checker));
    const args = exported.get(argsName);
    if (args) {
        const type = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(args));
        for (const p of checker.getPropertiesOfType(type)) {
            const d = text(p.getDocumentationComment(checker));
            if (d) out.properties[p.name] = d;
        }
    }
    return out;
}

const descriptions = {};
for (const kind of [...Object.keys(kinds), "BridgedNetwork"]) descriptions[`${PACKAGE}:index:${kind}`] = docs(kind, `${kind}Args`);
const { version } = require(path.join(root, "package.json"));
fs.writeFileSync(path.join(root, "dist/descriptions.json"), JSON.stringify(descriptions, null, 2) + "\n");
fs.writeFileSync(path.join(root, "dist/schema.json"), JSON.stringify(packageSchema(version, descriptions), null, 2) + "\n");
