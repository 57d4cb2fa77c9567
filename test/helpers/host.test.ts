import * as assert from "assert";
import * as fs from "fs";
import { Host, PROVIDER_KEY, UNKNOWN, serializeProvider, startHost, urn } from "./host";

/** Loopback must be up for the host's 127.0.0.1 listener (run.sh's sandbox does this). */
function loopbackUp(): boolean {
    try {
        return (parseInt(fs.readFileSync("/sys/class/net/lo/flags", "utf8"), 16) & 1) === 1;
    } catch {
        return false;
    }
}

// Self-contained: closure serialization ships this object (no captured imports) to the host.
const toyProvider = {
    async check(olds: any, news: any) {
        const failures = news.bad ? [{ property: "bad", reason: `bad is ${news.bad}` }] : [];
        return { inputs: { ...news, checked: true, sawOlds: Object.keys(olds).length }, failures };
    },
    async diff(id: string, olds: any, news: any) {
        if (news.x === "04da6b54-80e4-46f7-96ec-b56ff0331ba9") return { changes: undefined };
        const changed = olds.x !== news.x;
        return { changes: changed, replaces: changed && news.replace ? ["x"] : [], deleteBeforeReplace: !!news.dbr };
    },
    async create(inputs: any) {
        if (inputs.fail) throw new Error(`create boom: ${inputs.fail}`);
        const outs: any = { x: inputs.x, n: 1.5, big: 4294967296, neg: -7, nested: [[1, 2], ["a", null]], obj: { a: null, b: true } };
        if (inputs.undef) outs.u = undefined;
        return { id: `id-${inputs.x}`, outs };
    },
    async read(id: string, props: any) {
        return { id, props: { ...props, readId: id }, inputs: { x: props.x } };
    },
    async update(id: string, olds: any, news: any) {
        return { outs: { ...news, updatedFrom: olds.x, id } };
    },
    async delete(id: string, props: any) {
        if (props.failDelete) throw new Error(`delete boom: ${id}`);
    },
};

describe("test harness: dynamic-provider host over gRPC", function () {
    let host: Host | undefined;
    let prov = "";
    const u = urn("Toy", "t1");

    before(async function () {
        if (!loopbackUp()) {
            console.warn("SKIPPING host smoke test: loopback interface is down");
            return this.skip();
        }
        prov = await serializeProvider(toyProvider);
        host = await startHost();
    });
    after(async () => host?.stop());

    it("serializes the provider as a module exporting handler", () => {
        assert.match(prov, /exports\.handler/);
        assert.ok(host!.pid > 0 && host!.peakRssKb() > 0 && host!.rssKb() > 0);
    });

    it("check: returns provider inputs plus __provider, and failures", async () => {
        const r = await host!.check(u, {}, { [PROVIDER_KEY]: prov, x: "a", skip: undefined });
        assert.deepStrictEqual(r.failures, []);
        assert.deepStrictEqual(r.inputs, { [PROVIDER_KEY]: prov, x: "a", checked: true, sawOlds: 0 });
        const bad = await host!.check(u, { [PROVIDER_KEY]: prov, x: "a" }, { [PROVIDER_KEY]: prov, x: "a", bad: "yes" });
        assert.deepStrictEqual(bad.failures, [{ property: "bad", reason: "bad is yes" }]);
        assert.strictEqual(bad.inputs.sawOlds, 2);
    });

    it("check: unknowns pass through as the sentinel string (preview)", async () => {
        const r = await host!.check(u, {}, { [PROVIDER_KEY]: prov, x: UNKNOWN });
        assert.strictEqual(r.inputs.x, UNKNOWN);
    });

    it("diff: none / some+replace / unknown", async () => {
        const olds = { [PROVIDER_KEY]: prov, x: "a" };
        assert.deepStrictEqual(await host!.diff(u, "id-a", olds, { [PROVIDER_KEY]: prov, x: "a" }),
            { changes: "none", replaces: [], deleteBeforeReplace: false, stables: [], diffs: [] });
        const d = await host!.diff(u, "id-a", olds, { [PROVIDER_KEY]: prov, x: "b", replace: true, dbr: true });
        assert.deepStrictEqual([d.changes, d.replaces, d.deleteBeforeReplace], ["some", ["x"], true]);
        assert.strictEqual((await host!.diff(u, "id-a", olds, { [PROVIDER_KEY]: prov, x: UNKNOWN })).changes, "unknown");
    });

    it("create: id, outs (numbers, nested arrays, nulls) and __provider", async () => {
        const r = await host!.create(u, { [PROVIDER_KEY]: prov, x: "a" });
        assert.strictEqual(r.id, "id-a");
        assert.deepStrictEqual(r.outs, {
            [PROVIDER_KEY]: prov, x: "a", n: 1.5, big: 4294967296, neg: -7,
            nested: [[1, 2], ["a", null]], obj: { a: null, b: true },
        });
        // The host ignores `preview`; the engine never sends Create in preview (Configure says supportsPreview=false).
        assert.strictEqual((await host!.create(u, { [PROVIDER_KEY]: prov, x: "p" }, { preview: true })).id, "id-p");
    });

    it("create: an undefined value in outs makes the host fail (Struct.fromJavaScript rejects undefined)", async () => {
        await assert.rejects(host!.create(u, { [PROVIDER_KEY]: prov, x: "a", undef: true }), /Unexpected struct type/);
    });

    it("create: a provider error surfaces in the JS error message", async () => {
        await assert.rejects(host!.create(u, { [PROVIDER_KEY]: prov, x: "a", fail: "nope" }), /create boom: nope/);
    });

    it("read / update / delete round trip", async () => {
        const state = { [PROVIDER_KEY]: prov, x: "a", n: 1.5 };
        const r = await host!.read(u, "id-a", state, { [PROVIDER_KEY]: prov, x: "a" });
        assert.deepStrictEqual(r, { id: "id-a", props: { ...state, readId: "id-a" }, inputs: { [PROVIDER_KEY]: prov, x: "a" } });
        const up = await host!.update(u, "id-a", state, { [PROVIDER_KEY]: prov, x: "b" });
        assert.deepStrictEqual(up.outs, { [PROVIDER_KEY]: prov, x: "b", updatedFrom: "a", id: "id-a" });
        await host!.delete(u, "id-a", state);
        await assert.rejects(host!.delete(u, "id-z", { ...state, failDelete: true }), /delete boom: id-z/);
    });
});
