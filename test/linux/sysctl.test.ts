import { strict as assert } from "assert";
import { getSysctl, setSysctl, sysctlPath } from "../../provider/linux/sysctl";
import { localTarget } from "../../provider/linux/target";
import { sysctl, withFreshNetns } from "../helpers/kernel";
import { describePrivileged } from "../helpers/sandbox";

describe("linux/sysctl (pure)", () => {
    it("maps keys to /proc/sys paths and refuses odd keys and values", async () => {
        assert.equal(sysctlPath("net.ipv4.ip_forward"), "/proc/sys/net/ipv4/ip_forward");
        await assert.rejects(getSysctl(localTarget, "../../etc/passwd"), /not a sysctl key/);
        await assert.rejects(setSysctl(localTarget, "net.ipv4.ip_forward", "1 2"), /not a sysctl value/);
    });
});

describePrivileged("linux/sysctl: against the kernel", () => {
    const ns = withFreshNetns("sys");

    it("reads and writes inside a namespace without touching the sandbox root", async () => {
        const root = await sysctl("net.ipv4.ip_forward");
        assert.equal(await getSysctl(localTarget, "net.ipv4.ip_forward", ns.name), "0");
        await setSysctl(localTarget, "net.ipv4.ip_forward", "1", ns.name);
        assert.equal(await sysctl("net.ipv4.ip_forward", ns.name), "1");
        assert.equal(await getSysctl(localTarget, "net.ipv4.ip_forward", ns.name), "1");
        assert.equal(await sysctl("net.ipv4.ip_forward"), root);
        assert.equal(await getSysctl(localTarget, "net.ipv4.ip_forward"), root);
    });

    it("reports a missing key as undefined and a missing namespace as an error", async () => {
        assert.equal(await getSysctl(localTarget, "net.ipv4.no_such_key", ns.name), undefined);
        assert.equal(await getSysctl(localTarget, "net.ipv4.no_such_key"), undefined);
        await assert.rejects(getSysctl(localTarget, "net.ipv4.ip_forward", "no-such-ns"), /Cannot open network namespace/);
    });
});
