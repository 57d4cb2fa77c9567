import { strict as assert } from "assert";
import { parseScanArgs } from "../provider/bin";

describe("bin: pulumi-netns scan's arguments (no commands)", () => {
    it("reads every option", () => {
        assert.deepEqual(parseScanArgs(["scan"]), { sudo: false, format: "ts", netns: undefined });
        assert.deepEqual(parseScanArgs(["scan", "--host", "ops@[fd00::1]:2222", "--sudo", "--netns", "a,b,", "--format", "mermaid", "--host-key", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"]), {
            sudo: true, format: "mermaid", netns: ["a", "b"],
            connection: { host: "fd00::1", user: "ops", port: 2222, hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" },
        });
        for (const format of ["ts", "yaml", "import", "mermaid"]) assert.equal(parseScanArgs(["scan", "--format", format]).format, format);
    });

    it("refuses anything else with one line and the usage", () => {
        for (const [argv, message] of [
            [["list"], /usage: pulumi-netns scan \[--host/],
            [["scan", "--format", "svg"], /--format: ts, yaml, import or mermaid, not svg\nusage: .*\[--format ts\|yaml\|import\|mermaid\]$/],
            [["scan", "--bogus"], /Unknown option '--bogus'\nusage:/],
            [["scan", "--host"], /argument missing\nusage:/],
            [["scan", "--identity", "/x"], /--identity and --host-key need --host\nusage:/],
            [["scan", "extra"], /Unexpected argument 'extra'.*\nusage:/],
            [["scan", "--host", ":22"], /--host: expected \[user@\]host\[:port\]/],
            [["scan", "--host", "a@b@c"], /--host: host: must be a host name or an IP address/],
        ] as [string[], RegExp][]) {
            assert.throws(() => parseScanArgs(argv), message, argv.join(" "));
        }
    });
});
