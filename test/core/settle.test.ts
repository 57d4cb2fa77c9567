import { strict as assert } from "assert";
import { allInOrder } from "../../provider/core/settle";

const after = <T>(ms: number, fn: () => T) => new Promise<T>((resolve, reject) => setTimeout(() => { try { resolve(fn()); } catch (e) { reject(e); } }, ms));

describe("core/settle", () => {
    it("resolves every value in order", async () => {
        assert.deepEqual(await allInOrder([after(20, () => 1), after(0, () => 2)]), [1, 2]);
    });

    it("rejects with the first rejection in the order given, not in time, once every promise has settled", async () => {
        let lastDone = false;
        const first = after(40, () => { throw new Error("first"); });
        const second = after(0, () => { throw new Error("second"); });
        const last = after(80, () => (lastDone = true));
        await assert.rejects(allInOrder([first, second, last]), /^Error: first$/);
        assert.equal(lastDone, true, "settled only after every promise had");
    });
});
