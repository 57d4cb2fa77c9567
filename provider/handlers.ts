/**
 * Every kind of resource: its provider (the handlers both hosts serve: the dynamic-provider host
 * loads `handlers` through core/shim.ts, the provider plugin serves `kinds`), the schema its inputs
 * are checked with, and the fields it outputs besides its inputs. The plugin's package schema is
 * generated from these.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import type { Kind } from "./core/resource";
import { RuleOutputFields, RulesOutputFields } from "./core/rule-provider";
import { LinkOutputFields } from "./core/schema";
import { bridgeProvider, BridgeSchema } from "./resources/bridge";
import { chainPolicyProvider, ChainPolicyOutputFields, ChainPolicySchema } from "./resources/chain-policy";
import { forwardRuleProvider, ForwardRuleSchema } from "./resources/forward";
import { iptablesChainProvider, IptablesChainSchema } from "./resources/iptables-chain";
import { iptablesRuleProvider, IptablesRuleSchema } from "./resources/iptables-rule";
import { macvlanProvider, MacvlanSchema } from "./resources/macvlan";
import { vxlanProvider, VxlanSchema } from "./resources/vxlan";
import { masqueradeRuleProvider, MasqueradeRuleSchema } from "./resources/masquerade";
import { netnsProvider, NetnsOutputFields, NetnsSchema } from "./resources/netns";
import { portForwardProvider, PortForwardSchema } from "./resources/portforward";
import { routeProvider, RouteOutputFields, RouteSchema } from "./resources/route";
import { sysctlForwardProvider, SysctlForwardOutputFields, SysctlForwardSchema } from "./resources/sysctl";
import { vethPairProvider, VethPairOutputFields, VethPairSchema } from "./resources/veth";

/** What the package knows of one kind of resource. */
export interface KindSpec {
    provider: pulumi.dynamic.ResourceProvider;
    /** Its inputs (with `owner`, which the class or the plugin sets, and `connection`, `sudo`, `adopt`). */
    schema: z.ZodType & { shape: Record<string, z.ZodType> };
    /** What it outputs besides its inputs. */
    outputs: z.ZodObject;
}

const NO_OUTPUTS = z.object({});

export const kinds: Record<Kind, KindSpec> = {
    Netns: { provider: netnsProvider, schema: NetnsSchema, outputs: NetnsOutputFields },
    VethPair: { provider: vethPairProvider, schema: VethPairSchema, outputs: VethPairOutputFields },
    Bridge: { provider: bridgeProvider, schema: BridgeSchema, outputs: LinkOutputFields },
    Macvlan: { provider: macvlanProvider, schema: MacvlanSchema, outputs: LinkOutputFields },
    Vxlan: { provider: vxlanProvider, schema: VxlanSchema, outputs: LinkOutputFields },
    Route: { provider: routeProvider, schema: RouteSchema, outputs: RouteOutputFields },
    MasqueradeRule: { provider: masqueradeRuleProvider, schema: MasqueradeRuleSchema, outputs: RuleOutputFields },
    ForwardRule: { provider: forwardRuleProvider, schema: ForwardRuleSchema, outputs: RuleOutputFields },
    PortForward: { provider: portForwardProvider, schema: PortForwardSchema, outputs: RulesOutputFields },
    SysctlForward: { provider: sysctlForwardProvider, schema: SysctlForwardSchema, outputs: SysctlForwardOutputFields },
    ChainPolicy: { provider: chainPolicyProvider, schema: ChainPolicySchema, outputs: ChainPolicyOutputFields },
    IptablesChain: { provider: iptablesChainProvider, schema: IptablesChainSchema, outputs: NO_OUTPUTS },
    IptablesRule: { provider: iptablesRuleProvider, schema: IptablesRuleSchema, outputs: RuleOutputFields },
};

/** Kind → provider, as the dynamic-provider host loads it (core/shim.ts). */
export const handlers = Object.fromEntries(Object.entries(kinds).map(([k, v]) => [k, v.provider])) as Record<Kind, pulumi.dynamic.ResourceProvider>;
