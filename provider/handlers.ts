/**
 * The table the serialized providers load in the dynamic-provider host (see core/shim.ts):
 * resource kind → provider implementation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { bridgeProvider } from "./resources/bridge";
import { chainPolicyProvider } from "./resources/chain-policy";
import { forwardRuleProvider } from "./resources/forward";
import { iptablesChainProvider } from "./resources/iptables-chain";
import { iptablesRuleProvider } from "./resources/iptables-rule";
import { macvlanProvider } from "./resources/macvlan";
import { vxlanProvider } from "./resources/vxlan";
import { masqueradeRuleProvider } from "./resources/masquerade";
import { netnsProvider } from "./resources/netns";
import { portForwardProvider } from "./resources/portforward";
import { routeProvider } from "./resources/route";
import { sysctlForwardProvider } from "./resources/sysctl";
import { vethPairProvider } from "./resources/veth";

export const handlers: Record<string, pulumi.dynamic.ResourceProvider> = {
    Netns: netnsProvider,
    VethPair: vethPairProvider,
    Bridge: bridgeProvider,
    Macvlan: macvlanProvider,
    Vxlan: vxlanProvider,
    Route: routeProvider,
    MasqueradeRule: masqueradeRuleProvider,
    ForwardRule: forwardRuleProvider,
    PortForward: portForwardProvider,
    SysctlForward: sysctlForwardProvider,
    ChainPolicy: chainPolicyProvider,
    IptablesChain: iptablesChainProvider,
    IptablesRule: iptablesRuleProvider,
};
