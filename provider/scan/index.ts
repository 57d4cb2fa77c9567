/**
 * \`pulumi-netns scan\`: reads what a host has (read-only: the same reads \`pulumi refresh\` runs) and
 * declares it (declarations.ts) as this package's resources, every one with \`adopt: true\`: written as a
 * TypeScript program, a Pulumi YAML program or a \`pulumi import\` file, or drawn as a Mermaid diagram.
 * What no resource models is listed as comments, never as resources; objects that already carry a
 * pulumi-netns marker belong to a stack and are listed as such. \`importInputs\` finds one object again
 * by its import id, for the provider plugin's \`pulumi import\`.
 */
export { scanHost } from "./host";
export { modelTables } from "./rules";
export { declare, KINDS, literalInputs, Ref, type Declaration, type Kind } from "./declarations";
export { renderProgram, type ProgramTarget } from "./program";
export { pluginDir, renderYaml, yamlString } from "./yaml";
export { IMPORT_GRAMMAR, importId, importInputs, parseImportId, renderImport } from "./import";
export { renderMermaid } from "./mermaid";
export type { Topology } from "./topology";
