/**
 * The `main` of a project file as the CLI reads it (for the folder the dynamic-provider plugin
 * starts in): "" when there is none, undefined when it cannot be told (never guessed).
 */
import { strict as assert } from "assert";
import { projectMain } from "../../provider/core/workdir";

describe("core/workdir: a project file's main", () => {
    it("reads what LocalWorkspace writes and what people write", () => {
        assert.equal(projectMain("Pulumi.yaml", "name: lab\nruntime: nodejs\nmain: /srv/gitops\n"), "/srv/gitops");
        assert.equal(projectMain("Pulumi.yaml", "name: lab\nmain: '/srv/it''s here'\n"), "/srv/it's here");
        assert.equal(projectMain("Pulumi.yaml", 'name: lab\nmain: "dist/index.js"  # built\n'), "dist/index.js");
        assert.equal(projectMain("Pulumi.yaml", "main: src # the program\r\n"), "src");
        assert.equal(projectMain("Pulumi.yml", "name: lab\nruntime:\n  name: nodejs\n  options:\n    main: x\n"), "", "an indented main is not the project's");
        assert.equal(projectMain("Pulumi.json", JSON.stringify({ name: "lab", main: "/srv/gitops" })), "/srv/gitops");
        assert.equal(projectMain("Pulumi.json", JSON.stringify({ name: "lab", runtime: "nodejs" })), "");
    });
    it("answers undefined for what it cannot read for sure", () => {
        for (const text of ["main: >\n  /srv\n", "main: |\n  /srv\n", "main: *anchor\n", "main: \"a\\tb\"\n", "main:\n", "main: a\nmain: b\n", "main: [x]\n"]) {
            assert.equal(projectMain("Pulumi.yaml", text), undefined, JSON.stringify(text));
        }
        assert.equal(projectMain("Pulumi.json", "{ not json"), undefined);
        assert.equal(projectMain("Pulumi.json", JSON.stringify({ main: 3 })), undefined);
    });
});
