// Compile-time: each resource's argument type (what a program passes) names exactly the properties
// its schema (what check validates) takes, besides `owner`, which the class sets. A property added to
// one and not the other fails `npm test`'s type check (tsconfig.test.json) here.
import type { z } from "zod";
import * as netns from "../../../provider";
import { BridgedNetworkSchema } from "../../../provider/components/bridged-network";

type Own<T> = Exclude<keyof T, "owner">;
/** True when A and B are the same set of keys; else a type naming the keys that differ. */
type SameKeys<A, B> = [Exclude<A, B>, Exclude<B, A>] extends [never, never] ? true : { onlyInArgs: Exclude<A, B>; onlyInSchema: Exclude<B, A> };
type Check<Args, S extends z.ZodType> = SameKeys<Own<Required<Args>>, Own<Required<z.input<S>>>>;

export const checks: true[] = [
    true as Check<netns.NetnsArgs, typeof netns.NetnsSchema>,
    true as Check<netns.VethPairArgs, typeof netns.VethPairSchema>,
    true as Check<netns.BridgeArgs, typeof netns.BridgeSchema>,
    true as Check<netns.MacvlanArgs, typeof netns.MacvlanSchema>,
    true as Check<netns.VxlanArgs, typeof netns.VxlanSchema>,
    true as Check<netns.RouteArgs, typeof netns.RouteSchema>,
    true as Check<netns.MasqueradeRuleArgs, typeof netns.MasqueradeRuleSchema>,
    true as Check<netns.ForwardRuleArgs, typeof netns.ForwardRuleSchema>,
    true as Check<netns.PortForwardArgs, typeof netns.PortForwardSchema>,
    true as Check<netns.SysctlForwardArgs, typeof netns.SysctlForwardSchema>,
    true as Check<netns.ChainPolicyArgs, typeof netns.ChainPolicySchema>,
    true as Check<netns.IptablesChainArgs, typeof netns.IptablesChainSchema>,
    true as Check<netns.IptablesRuleArgs, typeof netns.IptablesRuleSchema>,
    true as SameKeys<Exclude<keyof Required<netns.BridgedNetworkArgs>, "connection" | "sudo" | "adopt" | "peers">, Exclude<keyof Required<z.input<typeof BridgedNetworkSchema>>, "peers">>,
];
