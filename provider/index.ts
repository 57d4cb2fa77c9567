export * from "./resources/netns";
export * from "./resources/veth";
export * from "./resources/bridge";
export * from "./resources/route";
export * from "./resources/masquerade";
export * from "./resources/forward";
export * from "./resources/sysctl";
export { CommandError } from "./linux/exec";
export { ownerToken } from "./core/owner";
