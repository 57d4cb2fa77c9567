// The floor of the benchmark: the resource graph of ../program (config n = N) with a dynamic
// provider that does nothing. One component; a bridge; per namespace a Netns, a VethPair that
// depends on it and on the bridge (deletedWith the Netns), a Route that depends on the pair
// (deletedWith the Netns); the two forward rules on the bridge, the forwarding sysctl and the
// masquerade rule: 3 N + 5 dynamic resources, as BridgedNetwork declares them. create answers
// { id: name, outs: inputs } at once; nothing else is done. What the real
// CLI spends on this program is Pulumi's own cost: the CLI, the program, the provider host.
import * as pulumi from "@pulumi/pulumi";

type Props = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/**
 * A provider that does nothing, as the text of a module the dynamic-provider host loads (its
 * `__provider`), about as long as the package's own (a module text naming the handlers by package,
 * 70 bytes), so that the two states differ by what the resources hold, not by their providers:
 * create returns the inputs as outputs; with no check, diff, read or delete, the host passes the
 * inputs through, leaves the diff to the engine, returns the state as read, and deletes nothing.
 */
const NOOP = "exports.handler=()=>({create:async(i)=>({id:i.name,outs:i})});";

/** A dynamic resource of `kind` (type `pulumi-nodejs:dynamic/noop:<kind>`) whose provider does nothing. */
class Noop extends pulumi.CustomResource {
    declare readonly name: pulumi.Output<string>;
    constructor(kind: string, name: string, props: Props, opts: pulumi.CustomResourceOptions) {
        super(`pulumi-nodejs:dynamic/noop:${kind}`, name, { name, ...props, __provider: NOOP }, opts);
    }
}

/** The address of the i-th namespace, as test/bench/script.sh numbers them. */
const address = (i: number) => `10.200.${Math.floor(i / 250)}.${(i % 250) + 2}/16`;

class NoopNetwork extends pulumi.ComponentResource {
    readonly addresses: pulumi.Output<Record<string, string>>;
    constructor(name: string, n: number) {
        super("noop:index:BridgedNetwork", name, {});
        const parent = { parent: this };
        const bridge = new Noop("Bridge", `${name}-bridge`, { addresses: ["10.200.255.1/16"] }, parent);
        for (let i = 0; i < n; i++) {
            const ns = new Noop("Netns", `${name}-b${i}`, {}, parent);
            const inNs = { ...parent, deletedWith: ns };
            const pair = new Noop("VethPair", `${name}-b${i}-veth`,
                { master: bridge.name, peerName: "eth0", peerNetns: ns.name, peerAddresses: [address(i)] }, inNs);
            new Noop("Route", `${name}-b${i}-default`, { destination: "default", gateway: "10.200.255.1", netns: pair.name.apply(() => `b${i}`) }, inNs);
        }
        new Noop("ForwardRule", `${name}-from-lan`, { inInterface: bridge.name, family: 4 }, parent);
        new Noop("SysctlForward", `${name}-forwarding`, { ipv4: true, ipv6: false }, parent);
        new Noop("MasqueradeRule", `${name}-masquerade`, { source: "10.200.0.0/16", outInterface: "up0" }, parent);
        new Noop("ForwardRule", `${name}-to-lan`, { outInterface: bridge.name, established: true, family: 4 }, parent);
        this.addresses = pulumi.output(Object.fromEntries(Array.from({ length: n }, (_, i) => [`b${i}`, address(i).split("/")[0]])));
        this.registerOutputs({ addresses: this.addresses });
    }
}

export const addresses = new NoopNetwork("bench", Number(new pulumi.Config().require("n"))).addresses;
