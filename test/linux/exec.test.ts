/** Commands kept running that answer a line with a line (`startLines`), with stand-ins for `ip -batch`. */
import { strict as assert } from "assert";
import { startLines } from "../../provider/linux/exec";

describe("linux/exec: a command kept running", () => {
    it("answers each line with its own line of output, in order, however many wait", async () => {
        const c = startLines(["sed", "-u", "s/^/got /"]);
        const answers = await Promise.all(["a", "b", "c"].map((l) => c.ask(l)));
        assert.deepEqual(answers.map((r) => r?.stdout), ["got a", "got b", "got c"]);
        assert.ok(answers.every((r) => r?.exitCode === 0));
        assert.equal(c.waiting, 0);
        assert.equal(c.alive, true);
    });

    it("answers the line that failed with its error, and those after it with nothing", async () => {
        // Like `ip -batch`: stops at the second line, names it on stderr.
        const script = 'read a; echo "[$a]"; read b; echo "no such $b" >&2; echo "Command failed -:2" >&2; exit 1';
        const c = startLines(["sh", "-c", script]);
        const [first, second, third] = await Promise.all(["x", "y", "z"].map((l) => c.ask(l)));
        assert.equal(first?.stdout, "[x]");
        assert.deepEqual([second?.exitCode, second?.stderr], [1, "no such y"], "its own error, without the line number");
        assert.equal(third, undefined, "never ran");
        assert.equal(c.alive, false);
        assert.equal(await c.ask("w"), undefined);
    });

    it("ends when it prints a line nobody waits for (its answers would be out of step)", async () => {
        const c = startLines(["sed", "-u", "p"]); // prints each line twice
        assert.equal((await c.ask("a"))?.stdout, "a");
        for (let ms = 0; c.alive && ms < 5000; ms += 20) await new Promise((resolve) => setTimeout(resolve, 20));
        assert.equal(c.alive, false);
        assert.equal(await c.ask("b"), undefined);
    });

    it("answers nothing when it cannot start", async () => {
        const c = startLines(["/nonexistent/ip", "-batch", "-"]);
        assert.equal(await c.ask("link show"), undefined);
        assert.equal(c.alive, false);
    });
});
