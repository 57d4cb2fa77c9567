import { strict as assert } from "assert";
import { canonicalPrefix, hasHostBits, networkOf, nthAddress, parsePrefix, prefixSize } from "../../provider/core/ip";

describe("core/ip", () => {
    it("parses IPv4 and IPv6 prefixes and rejects malformed ones", () => {
        assert.deepEqual(parsePrefix("10.1.2.3/16"), { family: 4, value: 0x0a010203n, length: 16 });
        assert.equal(parsePrefix("fd00::1/64")?.family, 6);
        for (const bad of ["10.1.2.3/33", "10.1.2/24", "256.1.1.1/8", "fd00::1/129", "10.0.0.1/-1", "10.0.0.1/8/8", "x", "", "10.0.0.1/ 8"]) {
            assert.equal(parsePrefix(bad), undefined, bad);
        }
    });
    it("canonicalises the way the kernel prints", () => {
        assert.equal(canonicalPrefix("FD00:0:0::1/64"), "fd00::1/64");
        assert.equal(canonicalPrefix("2001:db8:0:0:1:0:0:1/64"), "2001:db8::1:0:0:1/64");
        assert.equal(canonicalPrefix("::ffff:10.0.0.1/128"), "::ffff:a00:1/128");
        assert.equal(canonicalPrefix("10.1.1.1/24"), "10.1.1.1/24");
        assert.equal(canonicalPrefix("fd00::1"), "fd00::1");
    });
    it("finds host bits and networks", () => {
        assert.equal(hasHostBits(parsePrefix("10.1.1.1/16")!), true);
        assert.equal(hasHostBits(parsePrefix("10.1.0.0/16")!), false);
        assert.equal(networkOf(parsePrefix("10.1.1.1/16")!), "10.1.0.0/16");
        assert.equal(networkOf(parsePrefix("fd00:1::5/32")!), "fd00:1::/32");
    });
    it("counts and enumerates addresses", () => {
        const p = parsePrefix("192.168.1.0/24")!;
        assert.equal(prefixSize(p), 256n);
        assert.equal(nthAddress(p, 254n), "192.168.1.254");
        assert.equal(nthAddress(parsePrefix("fd00::/64")!, 1n), "fd00::1");
    });
});
