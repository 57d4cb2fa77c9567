/**
 * The entry point of the provider plugin `pulumi-resource-netns` (bin/pulumi-resource-netns runs
 * it): serves {@link netnsProvider} to the engine, which passes its address as the argument.
 */
import * as fs from "fs";
import * as path from "path";
import { main } from "@pulumi/pulumi/provider";
import { useProviderPlugin } from "../core/resource";
import { netnsProvider } from "./provider";
import { packageSchema, type Descriptions } from "./schema";

/** The package root (dist/provider/plugin → the folder of package.json). */
const ROOT = path.join(__dirname, "..", "..", "..");

/** The doc comments of the classes, as the build extracts them (tools/descriptions.js); none when it has not run. */
function descriptions(): Descriptions {
    try {
        return JSON.parse(fs.readFileSync(path.join(ROOT, "dist", "descriptions.json"), "utf8"));
    } catch {
        return {};
    }
}

const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
useProviderPlugin(); // BridgedNetwork's children are this plugin's resources
main(netnsProvider(version, packageSchema(version, descriptions())), process.argv.slice(2)).catch((err) => {
    console.error(`pulumi-resource-netns: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
});
