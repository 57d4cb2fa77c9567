/**
 * What \`pulumi-netns scan\` finds, in this package's terms: the topology \`host.ts\` reads, \`rules.ts\`
 * models the iptables part of, and \`program.ts\` and \`mermaid.ts\` render.
 */
import type { Hosts, Resolver } from "../linux/etc";
import type { Family, Table } from "../linux/iptables";
import type { Link, VxlanSpec } from "../linux/link";

/** A namespace as scanned; `undefined` name is the root namespace. */
export interface ScannedNetns {
    name: string | undefined;
    loopbackUp: boolean;
    dns?: Resolver;
    hosts?: Hosts;
    links: Link[];
}

export interface ScannedVeth {
    end: { netns?: string; link: Link };
    peer: { netns?: string; link: Link };
}

export interface ScannedRoute {
    netns?: string;
    family: Family;
    destination: string;
    gateway?: string;
    device?: string;
    metric?: number;
    source?: string;
}

export interface ScannedMasquerade {
    netns?: string;
    source: string;
    destination?: string;
    outInterface?: string;
    excludeOutInterface?: string;
}

export interface ScannedForward {
    netns?: string;
    family: Family;
    inInterface?: string;
    outInterface?: string;
    source?: string;
    destination?: string;
    established: boolean;
}

export interface ScannedMacvlan {
    netns?: string;
    link: Link;
    /** Its parent, a link of the root namespace. */
    parent: string;
}

export interface ScannedVxlan {
    netns?: string;
    link: Link;
    spec: VxlanSpec;
    /** Its flood list (the all-zeros fdb entries), for a device made without `remote` or `group`: a Vxlan's `remotes`. */
    remotes?: string[];
}

export interface ScannedPortForward {
    netns?: string;
    protocol: "tcp" | "udp";
    hostPort: number;
    hostAddress?: string;
    /** With its LAN's prefix length when the hairpin MASQUERADE was found too. */
    toAddress: string;
    toPort?: number;
}

/** A user-defined chain (an IptablesChain). */
export interface ScannedChain {
    netns?: string;
    family: Family;
    table: Table;
    name: string;
}

/** Any other rule an IptablesRule declares: its table and chain, and its other inputs as read back from the listing. */
export interface ScannedRule {
    netns?: string;
    family: Family;
    table: Table;
    chain: string;
    args: Record<string, unknown>;
}

/** What a host has, in this package's terms, and what it has that no resource models. */
export interface Topology {
    namespaces: ScannedNetns[];
    bridges: { netns?: string; link: Link }[];
    veths: ScannedVeth[];
    macvlans: ScannedMacvlan[];
    vxlans: ScannedVxlan[];
    routes: ScannedRoute[];
    masquerades: ScannedMasquerade[];
    forwards: ScannedForward[];
    portForwards: ScannedPortForward[];
    forwarding: { netns?: string; ipv4: boolean; ipv6: boolean }[];
    /** User-defined chains (an IptablesChain each), and the rules that no other resource declares (an IptablesRule each), in chain order. */
    chains: ScannedChain[];
    rules: ScannedRule[];
    /** Built-in chains whose policy is not ACCEPT (a ChainPolicy each). */
    policies: { netns?: string; family: Family; table: string; chain: string; policy: string }[];
    /** One line each: what was found and not modelled, and why. */
    unmodelled: string[];
}

