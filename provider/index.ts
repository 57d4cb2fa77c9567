/**
 * The package's public API, listed: each resource's class, its argument type (`…Args`, what a program
 * passes) and its schema (`…Schema`, what `check` validates: usable to validate configuration before
 * `pulumi up`), and the few helpers a program needs. Everything else is internal.
 */
export { Netns, NetnsSchema, type NetnsArgs, type DnsArgs, DnsSchema, HostsSchema } from "./resources/netns";
export { VethPair, VethPairSchema, type VethPairArgs } from "./resources/veth";
export { Bridge, BridgeSchema, type BridgeArgs } from "./resources/bridge";
export { Macvlan, MacvlanSchema, type MacvlanArgs } from "./resources/macvlan";
export { Vxlan, VxlanSchema, type VxlanArgs } from "./resources/vxlan";
export { Route, RouteSchema, type RouteArgs } from "./resources/route";
export { MasqueradeRule, MasqueradeRuleSchema, type MasqueradeRuleArgs } from "./resources/masquerade";
export { ForwardRule, ForwardRuleSchema, type ForwardRuleArgs } from "./resources/forward";
export { PortForward, PortForwardSchema, type PortForwardArgs } from "./resources/portforward";
export { SysctlForward, SysctlForwardSchema, type SysctlForwardArgs } from "./resources/sysctl";
export { ChainPolicy, ChainPolicySchema, type ChainPolicyArgs } from "./resources/chain-policy";
export { IptablesChain, IptablesChainSchema, type IptablesChainArgs } from "./resources/iptables-chain";
export { IptablesRule, IptablesRuleSchema, type IptablesRuleArgs } from "./resources/iptables-rule";
export { BridgedNetwork, BridgedNetworkSchema, planLan, type BridgedNetworkArgs, type LanHostArgs, type LanPlan, type LanMember, type LanHost } from "./components/bridged-network";
export type { ConnectionArgs, TargetArgs } from "./core/resource";
export type { Connection } from "./core/schema";
export { CommandError } from "./linux/exec";
export { ownerToken } from "./core/owner";
export { defaultRouteDevice } from "./linux/route";
