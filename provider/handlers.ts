/**
 * The table the serialized providers load in the dynamic-provider host (see core/shim.ts):
 * resource kind → provider implementation.
 */
import type * as pulumi from "@pulumi/pulumi";
import { netnsProvider } from "./resources/netns";

export const handlers: Record<string, pulumi.dynamic.ResourceProvider> = {
    Netns: netnsProvider,
};
