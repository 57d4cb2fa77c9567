/**
 * What the resource classes hand the engine: every key the caller gave, known or not, so that a
 * misspelled property from a variable, `any` or plain JavaScript (where TypeScript cannot see it)
 * reaches check and fails it instead of being dropped.
 */
import { strict as assert } from "assert";
import * as pulumi from "@pulumi/pulumi";
import { pathToFileURL } from "url";
import * as netns from "../../provider";
import { handlers } from "../../provider/handlers";
import { commandsDuring } from "../helpers/provider";

describe("core/resource: unknown properties reach check (under Pulumi mocks)", () => {
    const registered = new Map<string, Record<string, unknown>>();
    before(() => {
        pulumi.runtime.setMocks(
            {
                newResource: (args) => {
                    registered.set(args.name, args.inputs);
                    return { id: `${args.name}-id`, state: args.inputs };
                },
                call: () => ({}),
            },
            "proj",
            "dev",
            false,
        );
    });

    /** One valid declaration per resource class, and the misspelling a user could make in it. */
    const cases: [keyof typeof handlers, (name: string, args: any) => pulumi.Resource, Record<string, unknown>, string, string][] = [
        ["Netns", (n, a) => new netns.Netns(n, a), { name: "blue" }, "loopbakUp", "loopbackUp"],
        ["VethPair", (n, a) => new netns.VethPair(n, a), { name: "v0", peerName: "v1", peerNetns: "blue" }, "peerAdresses", "peerAddresses"],
        ["Bridge", (n, a) => new netns.Bridge(n, a), { name: "br0" }, "adresses", "addresses"],
        ["Route", (n, a) => new netns.Route(n, a), { destination: "default", device: "v0" }, "gatway", "gateway"],
        ["MasqueradeRule", (n, a) => new netns.MasqueradeRule(n, a), { source: "10.0.0.0/24" }, "outInterfce", "outInterface"],
        ["ForwardRule", (n, a) => new netns.ForwardRule(n, a), { inInterface: "br0" }, "establised", "established"],
        ["SysctlForward", (n, a) => new netns.SysctlForward(n, a), {}, "ipv_6", "ipv6"],
    ];

    for (const [kind, make, args, typo, meant] of cases) {
        it(`${kind}: a misspelled '${typo}' is registered, and check fails naming it and '${meant}', running nothing`, async () => {
            const spread: Record<string, unknown> = { ...args, [typo]: ["10.1.1.1/24"] }; // not a literal: TypeScript cannot see it
            const name = `typo-${kind}`;
            make(name, spread);
            await new Promise((r) => setTimeout(r, 50)); // registration is asynchronous under mocks
            const inputs = registered.get(name)!;
            assert.ok(inputs, `${kind} registered`);
            assert.deepEqual(inputs[typo], ["10.1.1.1/24"], "the unknown key is passed on, not dropped");
            const cmds = await commandsDuring(async () => {
                const r = await handlers[kind].check!({}, inputs);
                assert.deepEqual(r.failures, [{ property: typo, reason: `unknown property '${typo}': did you mean '${meant}'?` }]);
            });
            assert.deepEqual(cmds, []);
            // The valid declaration passes, and the resource's name given to check never reaches the state.
            const { [typo]: _t, ...valid } = inputs;
            const ok = await handlers[kind].check!({}, valid);
            assert.deepEqual(ok.failures, []);
            assert.equal(valid.resourceName, `${kind} "${name}"`);
            assert.equal((ok.inputs as Record<string, unknown>).resourceName, undefined);
        });
    }

    it("deleteBeforeReplace: false is refused when the program runs, naming the fix (every replacement deletes first)", () => {
        assert.ok(new netns.Bridge("dbr-given", { name: "dbr0" }, { deleteBeforeReplace: true }));
        assert.throws(() => new netns.Bridge("dbr-false", { name: "dbr0" }, { deleteBeforeReplace: false }),
            /Bridge "dbr-false": deleteBeforeReplace: false cannot work for a pulumi-netns resource: .*Leave the option out/);
        assert.throws(() => new netns.VethPair("dbr-veth", { name: "a", peerName: "b" }, { deleteBeforeReplace: false }), /VethPair "dbr-veth": deleteBeforeReplace: false/);
    });

    it("replaceOnChanges reaches check and diff as a hidden input that create and the state's outputs never hold", async () => {
        new netns.Netns("roc", { name: "roc", hosts: { "10.0.0.1": ["gw"] } }, { replaceOnChanges: ["hosts"] });
        await new Promise((r) => setTimeout(r, 50));
        const inputs = registered.get("roc")!;
        assert.deepEqual(inputs.__replaceOnChanges, ["hosts"]);
        const { inputs: checked } = await handlers.Netns.check!({}, inputs);
        assert.deepEqual(checked.__replaceOnChanges, ["hosts"], "check keeps it for diff");
        const olds = { ...checked, __replaceOnChanges: undefined, path: "/run/netns/roc" };
        const d = await handlers.Netns.diff!("roc", olds, { ...checked, hosts: { "10.0.0.1": ["gw2"] } });
        assert.deepEqual(d, { changes: true, replaces: ["hosts"], deleteBeforeReplace: true });
        const same = await handlers.Netns.diff!("roc", olds, { ...checked, loopbackUp: false });
        assert.deepEqual(same.replaces, [], "a key it does not name still updates");
    });

    it("BridgedNetwork: an unknown key fails when the program runs, naming the one it likely meant", () => {
        const args: any = { bridge: "br0", cidr: "10.0.0.0/24", namespace: ["a"], namespaces: [] };
        assert.throws(() => new netns.BridgedNetwork("lan", args), /BridgedNetwork "lan": namespace: unknown property 'namespace': did you mean 'namespaces'\?/);
        const nested: any = { bridge: "br0", cidr: "10.0.0.0/24", namespaces: [], nat: { outInterace: "eth0" } };
        assert.throws(() => new netns.BridgedNetwork("lan2", nested), /nat\.outInterace: unknown property 'nat\.outInterace': did you mean 'outInterface'\?/);
    });
});

describe("core/resource: what registering a resource costs the program (under Pulumi mocks)", () => {
    before(() => {
        pulumi.runtime.setMocks({ newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }), call: () => ({}) }, "proj", "dev", false);
    });

    it("captures one stack trace, the resource's own, not one per property promise of the SDK's; and restores the limit", () => {
        const prepare = Error.prepareStackTrace;
        const limit = Error.stackTraceLimit;
        let traces = 0;
        let frames = 0;
        Error.prepareStackTrace = (err, stack) => {
            if (stack.length > 0) traces++; // a trace with no frame (the limit at 0) costs nothing to map
            frames += stack.length;
            return prepare ? prepare(err, stack) : `${err}`;
        };
        try {
            new netns.VethPair("cost", { name: "v0", peerName: "v1", peerNetns: "blue", addresses: ["10.0.0.1/24"] });
        } finally {
            Error.prepareStackTrace = prepare;
        }
        assert.ok(traces >= 1, "the resource's own stack trace is captured");
        assert.ok(frames > 0, "with its frames");
        assert.equal(traces, 1, `${traces} stack traces with frames captured while registering one resource`);
        assert.equal(Error.stackTraceLimit, limit, "the limit is back");
    });

    it("records, as each resource's source position, the line that declared it, not one of the package's", () => {
        const Resource = pulumi.Resource as unknown as { stackTrace(skip: number): ({ uri: string; line: number } | undefined)[] };
        const stackTrace = Resource.stackTrace;
        const recorded: ({ uri: string; line: number } | undefined)[] = [];
        // The SDK's Resource.stackTrace(skip) is what it sends the engine; called through this wrapper, one frame deeper.
        Resource.stackTrace = (skip) => {
            const trace = stackTrace.call(Resource, skip + 1);
            recorded.push(trace[0]);
            return trace;
        };
        /** The line of the caller, as the SDK reads a frame (mapped through source maps). */
        const here = () => Number(/:(\d+):\d+\)?$/.exec(new Error().stack!.split("\n")[2])![1]);
        try {
            for (const kind of Object.keys(handlers) as (keyof typeof handlers)[]) {
                recorded.length = 0;
                const line = here(); new (netns[kind] as new (name: string, args: object) => pulumi.Resource)(`position-${kind}`, {}); // prettier-ignore
                assert.equal(recorded.length, 1, kind);
                assert.deepEqual({ uri: recorded[0]?.uri, line: recorded[0]?.line }, { uri: pathToFileURL(__filename).toString(), line }, kind);
            }
        } finally {
            Resource.stackTrace = stackTrace;
        }
    });
});
