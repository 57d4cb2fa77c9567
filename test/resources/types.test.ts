/**
 * The resource classes' types: outputs fit the matching inputs without `.apply((n) => n!)`
 * (types/outputs-fit-inputs.ts compiles, with its `@ts-expect-error` lines still errors).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { REPO_ROOT } from "../helpers/host";

describe("resources: input and output types", function () {
    this.timeout(120000);
    it("every output passes to the matching input (tsc --strict compiles types/outputs-fit-inputs.ts)", () => {
        const file = path.join(__dirname, "types", "outputs-fit-inputs.ts");
        const r = spawnSync(
            process.execPath,
            [require.resolve("typescript/bin/tsc"), "--noEmit", "--strict", "--skipLibCheck", "--target", "ES2022", "--module", "node16", "--moduleResolution", "node16", file],
            { cwd: REPO_ROOT, encoding: "utf8" },
        );
        assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
    });
});
