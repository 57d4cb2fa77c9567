import { strict as assert } from "assert";
import { existsSync, readdirSync } from "fs";
import * as path from "path";
import { MARKER_ROOT, readMarker, removeMarker, writeMarker } from "../../provider/linux/marker";
import { localTarget } from "../../provider/linux/target";
import { describePrivileged } from "../helpers/sandbox";

describePrivileged("linux/marker: marker files under /run/pulumi-netns", () => {
    const dir = path.join(MARKER_ROOT, `test-${process.pid}`);
    const A = "pulumi-netns:00000000000000aa", B = "pulumi-netns:00000000000000bb";

    it("writes, reads and removes a marker; the last one out removes its folder, and the root when that is empty too", async () => {
        const othersBefore = existsSync(MARKER_ROOT) ? readdirSync(MARKER_ROOT).filter((d) => d !== path.basename(dir)) : [];
        await writeMarker(localTarget, dir, A, { n: 1 });
        await writeMarker(localTarget, dir, B, { n: 2 });
        assert.deepEqual(await readMarker(localTarget, dir, A, (d) => typeof d.n === "number"), { n: 1 });
        await removeMarker(localTarget, dir, A);
        assert.deepEqual(readdirSync(dir), [B.replace(":", "_")], "a folder still holding a marker stays");
        await removeMarker(localTarget, dir, B);
        assert.ok(!existsSync(dir), "the last marker's folder goes with it");
        assert.equal(existsSync(MARKER_ROOT), othersBefore.length > 0, "the root goes when nothing else is in it");
        await removeMarker(localTarget, dir, B); // again: nothing there
    });

    it("a marker written while another's removal empties the folder is written all the same", async () => {
        for (let i = 0; i < 200; i++) {
            await writeMarker(localTarget, dir, A, { i });
            await Promise.all([removeMarker(localTarget, dir, A), writeMarker(localTarget, dir, B, { i })]);
            assert.deepEqual(await readMarker(localTarget, dir, B, () => true), { i }, `round ${i}`);
            await removeMarker(localTarget, dir, B);
        }
        assert.ok(!existsSync(dir));
    });
});
