export * from "./resources/netns";
export { CommandError } from "./linux/exec";
export { ownerToken } from "./core/owner";
