/**
 * \`pulumi-netns scan\`: reads what a host has (read-only: the same reads \`pulumi refresh\` runs) and
 * writes it as a Pulumi program of this package's resources, every one with \`adopt: true\`, or as a
 * Mermaid diagram. What no resource models is listed as comments, never as resources; objects that
 * already carry a pulumi-netns marker belong to a stack and are listed as such.
 */
export { scanHost } from "./host";
export { modelTables } from "./rules";
export { renderProgram, type ProgramTarget } from "./program";
export { renderMermaid } from "./mermaid";
export type { Topology } from "./topology";
