import { strict as assert } from "assert";
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { defaultsOf, withSchema } from "../../provider/core/defaults";
import { UNKNOWN } from "../../provider/core/schema";

type Props = Record<string, unknown>;

const Schema = z.strictObject({
    name: z.string(),
    up: z.boolean().default(true),
    addresses: z.array(z.string()).default([]),
    mtu: z.number().optional(),
});

/** The provider of Schema, from handlers that record what each is given. */
function recording(): { provider: pulumi.dynamic.ResourceProvider; seen: [string, ...Props[]][] } {
    const seen: [string, ...Props[]][] = [];
    const provider = withSchema(Schema, {
        diff: async (_id, olds, news) => (seen.push(["diff", olds, news]), { changes: false }),
        create: async (inputs) => (seen.push(["create", inputs]), { id: "x", outs: inputs }),
        read: async (id, props) => (seen.push(["read", props!]), { id, props }),
        update: async (_id, olds, news) => (seen.push(["update", olds, news]), { outs: news }),
        delete: async (_id, props) => void seen.push(["delete", props]),
    });
    return { provider, seen };
}

describe("core/defaults", () => {
    it("finds a schema's defaults", () => {
        assert.deepEqual(defaultsOf(Schema), { up: true, addresses: [] });
    });

    it("check leaves out the defaults it filled in, and keeps those the program gave", async () => {
        const p = recording().provider;
        assert.deepEqual((await p.check!({}, { name: "a" })).inputs, { name: "a" });
        assert.deepEqual((await p.check!({}, { name: "a", up: true, mtu: 1400 })).inputs, { name: "a", up: true, mtu: 1400 });
        // During a preview (a value not known yet) too.
        assert.deepEqual((await p.check!({}, { name: UNKNOWN })).inputs, { name: UNKNOWN });
        // A failed check returns what it was given, failures and all.
        const failed = await p.check!({}, { name: "a", up: "yes" });
        assert.deepEqual(failed.failures?.map((f) => f.property), ["up"]);
    });

    it("every other handler gets the defaults filled in, without sharing them between calls", async () => {
        const { provider: p, seen } = recording();
        const filled = { name: "a", up: true, addresses: [] };
        await p.diff!("x", { name: "a" }, { name: "a" });
        await p.create({ name: "a" });
        await p.read!("x", { name: "a" });
        await p.update!("x", { name: "a" }, { name: "a", up: false });
        await p.delete!("x", { name: "a" });
        assert.deepEqual(seen, [
            ["diff", filled, filled],
            ["create", filled],
            ["read", filled],
            ["update", filled, { ...filled, up: false }],
            ["delete", filled],
        ]);
        ((seen[1][1] as Props).addresses as string[]).push("10.0.0.1/24");
        assert.deepEqual(defaultsOf(Schema).addresses, [], "a default changed by a handler stays as declared");
    });
});
