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

/**
 * `pulumi import` reads a resource by its id alone: the engine's ReadRequest then carries no
 * properties, and @pulumi/pulumi's provider server (3.248) calls `getProperties().toJavaScript()` on
 * it and fails before the provider's read runs. An absent Struct is read as an empty one here, which
 * is what the provider's read takes as an import.
 */
function readImportsWithoutProperties(): void {
    const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json"));
    const { ReadRequest } = require(path.join(pulumiDir, "proto", "provider_pb"));
    const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] }));
    const getProperties = ReadRequest.prototype.getProperties;
    ReadRequest.prototype.getProperties = function (this: unknown) {
        return getProperties.call(this) ?? new Struct();
    };
}

const { version } = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
readImportsWithoutProperties();
useProviderPlugin(); // BridgedNetwork's children are this plugin's resources
main(netnsProvider(version, packageSchema(version, descriptions())), process.argv.slice(2)).catch((err) => {
    console.error(`pulumi-resource-netns: ${err instanceof Error ? err.message : err}`);
    process.exit(1);
});
