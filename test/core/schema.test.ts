import { strict as assert } from "assert";
import { z } from "zod";
import { checkWith, IfName, NetnsName, UNKNOWN } from "../../provider/core/schema";

describe("core/schema", () => {
    const reasons = (schema: z.ZodType, v: unknown) => {
        const r = schema.safeParse(v);
        return r.success ? [] : r.error.issues.map((i) => i.message);
    };

    it("accepts ordinary interface names", () => {
        for (const ok of ["veth0", "br-lan", "veth1_p", "a", "x".repeat(15), "eth0.100", "wg@1"]) {
            assert.deepEqual(reasons(IfName, ok), [], ok);
        }
    });
    it("rejects unsafe interface names with the rule they break", () => {
        const cases: [string, RegExp][] = [
            ["", /empty/],
            ["x".repeat(16), /at most 15/],
            ["-rf", /must not start with '-'/],
            ["--help", /must not start with '-'/],
            [".", /'\.' or '\.\.'/],
            ["..", /'\.' or '\.\.'/],
            ["a/b", /only ASCII/],
            ["a:b", /only ASCII/],
            ["a b", /only ASCII/],
            ["a\nb", /only ASCII/],
            ["$(reboot)", /only ASCII/],
            ["vеth0", /only ASCII/], // Cyrillic е
        ];
        for (const [bad, rule] of cases) {
            const r = reasons(IfName, bad);
            assert.ok(r.some((m) => rule.test(m)), `${JSON.stringify(bad)}: ${r.join("; ")}`);
        }
    });
    it("allows long namespace names up to 255", () => {
        assert.deepEqual(reasons(NetnsName, "n".repeat(255)), []);
        assert.ok(reasons(NetnsName, "n".repeat(256)).length > 0);
        assert.ok(reasons(NetnsName, "../etc").length > 0);
    });

    const Args = z.object({ name: IfName, up: z.boolean().default(true), mtu: z.number().optional() }).strict();

    it("fills defaults and reports failures by property", () => {
        assert.deepEqual(checkWith(Args, { name: "v0", __provider: "x" }), { inputs: { name: "v0", up: true }, failures: [] });
        const bad = checkWith(Args, { name: "-x", mtu: "big" });
        assert.deepEqual(bad.failures.map((f) => f.property).sort(), ["mtu", "name"]);
    });
    it("names unknown properties (typos)", () => {
        const r = checkWith(Args, { name: "v0", adress: "10.0.0.1/24" });
        assert.deepEqual(r.failures, [{ property: "adress", reason: "unknown property 'adress' (known: name, up, mtu)" }]);
    });
    it("lets values unknown during preview pass and still fills the other defaults", () => {
        const r = checkWith(Args, { name: UNKNOWN });
        assert.deepEqual(r, { inputs: { name: UNKNOWN, up: true }, failures: [] });
    });
});
