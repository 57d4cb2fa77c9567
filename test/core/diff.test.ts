/** core/diff: what makes a change a replacement (pure: no command runs). */
import { strict as assert } from "assert";
import { diffInputs, diffResult } from "../../provider/core/diff";
import { REPLACE_ON_CHANGES, UNKNOWN } from "../../provider/core/schema";

describe("core/diff", () => {
    const spec = { keys: ["name", "master", "addresses", "mtu"], replace: ["name"], unmanagedWhenOmitted: ["mtu"], references: ["master"] };
    const olds = { name: "a", master: "br0", addresses: ["10.0.0.1/24"], mtu: 1400 };

    it("a changed identity replaces; other changes update; an omitted unmanaged key is left alone", () => {
        assert.deepEqual(diffInputs(olds, { ...olds, name: "b" }, spec), { changed: ["name"], replaces: ["name"] });
        assert.deepEqual(diffInputs(olds, { ...olds, master: "br1" }, spec), { changed: ["master"], replaces: [] });
        assert.deepEqual(diffInputs(olds, { ...olds, mtu: undefined }, spec), { changed: [], replaces: [] });
    });

    it("a reference not known yet replaces (the engine asks so when it replaces what it names); other unknowns update", () => {
        assert.deepEqual(diffInputs(olds, { ...olds, master: UNKNOWN }, spec), { changed: ["master"], replaces: ["master"] });
        assert.deepEqual(diffInputs(olds, { ...olds, addresses: UNKNOWN }, spec), { changed: ["addresses"], replaces: [] });
    });

    it("replaceOnChanges (the hidden input) makes the keys it names replace: top-level keys, paths into them, and *", () => {
        const roc = (paths: unknown) => ({ ...olds, addresses: ["10.0.0.2/24"], master: "br1", [REPLACE_ON_CHANGES]: paths });
        assert.deepEqual(diffInputs(olds, roc(["addresses"]), spec).replaces, ["addresses"]);
        assert.deepEqual(diffInputs(olds, roc(["addresses[0]"]), spec).replaces, ["addresses"]);
        assert.deepEqual(diffInputs(olds, roc(["*"]), spec).replaces, ["master", "addresses"]);
        assert.deepEqual(diffInputs(olds, roc(["mtu"]), spec).replaces, [], "a key that did not change replaces nothing");
        assert.deepEqual(diffInputs(olds, { ...olds, [REPLACE_ON_CHANGES]: ["*"] }, spec), { changed: [], replaces: [] }, "the option itself is no change");
    });

    it("a connection to another host replaces; the same host with another key updates", () => {
        const c = { ...olds, connection: { host: "h1", user: "root" } };
        assert.deepEqual(diffInputs(c, { ...c, connection: { host: "h2", user: "root" } }, spec).replaces, ["connection"]);
        assert.deepEqual(diffInputs(c, { ...c, connection: { host: "h1", user: "admin" } }, spec).replaces, []);
    });

    it("every replacement deletes first", () => {
        assert.deepEqual(diffResult(["name"], ["name"]), { changes: true, replaces: ["name"], deleteBeforeReplace: true });
        assert.deepEqual(diffResult([], []), { changes: false, replaces: [], deleteBeforeReplace: true });
    });
});
