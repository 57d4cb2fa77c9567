/**
 * Bad input: every case fails `check` with a failure naming the property, and `create` handed the
 * same input directly (as if check were skipped) rejects too; neither runs a single command.
 * Table-driven over every resource and BridgedNetwork's arguments.
 */
import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { planLan } from "../../provider/components/bridged-network";
import { handlers } from "../../provider/handlers";
import { CASES, VALID, type Kind } from "../helpers/bad-inputs";
import { commandsDuring, owner } from "../helpers/provider";


/** [description, BridgedNetwork arguments, text the error must contain]. */
const LAN_CASES: [string, Record<string, unknown>, RegExp][] = [
    ["bridge name too long", { bridge: "b".repeat(16), cidr: "10.1.0.0/24", namespaces: ["a"] }, /bridge/],
    ["namespace with a slash", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: ["a/b"] }, /namespaces/],
    ["cidr with host bits", { bridge: "br0", cidr: "10.1.0.1/24", namespaces: ["a"] }, /host bits[\s\S]*cidr/],
    ["cidr too small", { bridge: "br0", cidr: "10.1.0.0/30", namespaces: ["a", "b"] }, /too few/],
    ["gateway outside the cidr", { bridge: "br0", cidr: "10.1.0.0/24", gateway: "10.2.0.1", namespaces: ["a"] }, /gateway/],
    ["pinned address outside", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: [{ name: "a", address: "10.1.1.5" }] }, /namespaces\.a\.address/],
    ["namespace listed twice", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: ["a", "a"] }, /listed twice/],
    ["gateway of the other family", { bridge: "br0", cidr: "fd00::/64", gateway: "10.1.0.1", namespaces: ["a"] }, /gateway/],
    ["nat with both interfaces", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: [], nat: { outInterface: "a", excludeOutInterface: "b" } }, /nat/],
    ["unknown argument", { bridge: "br0", cidr: "10.1.0.0/24", namespaces: [], bridgeName: "x" }, /bridgeName/],
];

/** Runs a provider method on the inputs and reports the error (undefined: it succeeded). */
async function failure(fn: () => Promise<unknown>): Promise<Error | undefined> {
    try {
        await fn();
        return undefined;
    } catch (err) {
        return err as Error;
    }
}

function inputsOf(kind: Kind, override: Record<string, unknown>): Record<string, unknown> {
    const inputs: Record<string, unknown> = { ...VALID[kind], owner: owner(kind, "bad"), ...override };
    for (const k of Object.keys(inputs)) if (inputs[k] === undefined) delete inputs[k];
    return inputs;
}

export const BAD_INPUTS = CASES.length + LAN_CASES.length;

describe(`reliability: ${BAD_INPUTS} bad inputs, each rejected before any command runs`, () => {
    it("accepts every valid base input (so each case fails for its own reason)", async () => {
        const cmds = await commandsDuring(async () => {
            for (const kind of Object.keys(VALID) as Kind[]) {
                const r = await handlers[kind].check!({}, inputsOf(kind, {}));
                assert.deepEqual(r.failures ?? [], [], kind);
            }
        });
        assert.deepEqual(cmds, []);
    });

    it("covers every resource with at least 40 cases", () => {
        assert.deepEqual(new Set(CASES.map(([k]) => k)), new Set(Object.keys(handlers)));
        assert.ok(CASES.length >= 40);
    });

    for (const [kind, override, property] of CASES) {
        it(`${kind} ${JSON.stringify(override)} → ${property}`, async () => {
            const provider: pulumi.dynamic.ResourceProvider = handlers[kind];
            const inputs = inputsOf(kind, override);
            let checkFailures: { property: string; reason: string }[] = [];
            let createError: Error | undefined;
            const cmds = await commandsDuring(async () => {
                checkFailures = (await provider.check!({}, inputs)).failures ?? [];
                createError = await failure(() => provider.create(inputs));
            });
            assert.deepEqual(cmds, [], "no command may run");
            assert.ok(checkFailures.some((f) => f.property === property), `check must name ${property}: ${JSON.stringify(checkFailures)}`);
            for (const f of checkFailures) assert.ok(f.reason.length > 10, `a reason that says what rule broke: ${JSON.stringify(f)}`);
            assert.ok(createError, "create must refuse input that check refuses");
        });
    }

    for (const [what, args, message] of LAN_CASES) {
        it(`BridgedNetwork: ${what}`, async () => {
            const cmds = await commandsDuring(async () => {
                assert.throws(() => planLan(args as never), message);
            });
            assert.deepEqual(cmds, []);
        });
    }
});
