import { strict as assert } from "assert";
import { z } from "zod";
import { checkWith, IfName, InterfaceAddress, IpAddress, NetnsName, Network, UNKNOWN } from "../../provider/core/schema";

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

    it("leaves out the defaults of what is left out, keeps what is given, and reports failures by property", () => {
        assert.deepEqual(checkWith(Args, { name: "v0", __provider: "x" }), { inputs: { name: "v0" }, failures: [] });
        assert.deepEqual(checkWith(Args, { name: "v0", up: true }), { inputs: { name: "v0", up: true }, failures: [] });
        const bad = checkWith(Args, { name: "-x", mtu: "big" });
        assert.deepEqual(bad.failures.map((f) => f.property).sort(), ["mtu", "name"]);
    });
    it("says which part of an address is wrong", () => {
        const why = (schema: z.ZodType, v: string) => reasons(schema, v).join("; ");
        assert.equal(why(InterfaceAddress, "192.168.50.256/24"), 'must be an address with a prefix length, e.g. 10.1.1.1/24 or fd00::1/64: octet 256 of "192.168.50.256" is out of range (0–255)');
        assert.match(why(InterfaceAddress, "192.168.50.1"), /"192\.168\.50\.1" has no prefix length: add one, e.g\. 192\.168\.50\.1\/24/);
        assert.match(why(InterfaceAddress, "192.168.50.1/40"), /prefix length \/40 is out of range: IPv4 allows \/0 to \/32/);
        assert.match(why(InterfaceAddress, "fd00::1/129"), /prefix length \/129 is out of range: IPv6 allows \/0 to \/128/);
        assert.match(why(InterfaceAddress, "10.1.1/24"), /it needs 4 octets/);
        assert.match(why(InterfaceAddress, "fd00::g/64"), /"fd00::g" is not an IPv4 or IPv6 address/);
        assert.match(why(IpAddress, "10.0.0.1/24"), /must be a single address, without a prefix length/);
        assert.equal(why(Network, "192.168.50.1/24"), "has host bits set (192.168.50.1/24 is an address in 192.168.50.0/24, not a network): did you mean 192.168.50.0/24?");
        assert.deepEqual(reasons(InterfaceAddress, "192.168.50.255/24"), []);
    });
    it("names unknown properties (typos)", () => {
        const r = checkWith(Args, { name: "v0", adress: "10.0.0.1/24" });
        assert.deepEqual(r.failures, [{ property: "adress", reason: "unknown property 'adress' (known: name, up, mtu)" }]);
    });
    it("lets values unknown during preview pass, and leaves the defaults out", () => {
        const r = checkWith(Args, { name: UNKNOWN });
        assert.deepEqual(r, { inputs: { name: UNKNOWN }, failures: [] });
    });
});
