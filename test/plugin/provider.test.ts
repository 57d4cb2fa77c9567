/** plugin/provider: the plugin's host over the handlers: owner from the URN, secrets kept, the same checks (pure: check and diff run nothing). */
import { strict as assert } from "assert";
import { ownerToken } from "../../provider/core/owner";
import { kinds } from "../../provider/handlers";
import { netnsProvider, parseUrn } from "../../provider/plugin/provider";
import { packageSchema } from "../../provider/plugin/schema";

const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const secret = (value: unknown) => ({ [SIG]: SECRET, value });
/** A key of the form check takes (never used: nothing connects). */
const KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----\n";
const urn = (kind: string, name: string) => `urn:pulumi:dev::lab::netns:index:${kind}::${name}`;

describe("plugin/provider", () => {
    const p = netnsProvider("0.0.0-test", packageSchema("0.0.0-test"));

    it("reads a URN's parts, also a child's (parent$type) and a name holding '::'", () => {
        assert.deepEqual(parseUrn("urn:pulumi:dev::lab::netns:index:Netns::blue"), { stack: "dev", project: "lab", type: "netns:index:Netns", name: "blue" });
        assert.deepEqual(parseUrn("urn:pulumi:prod::lab::netns:index:BridgedNetwork$netns:index:VethPair::a::b"), { stack: "prod", project: "lab", type: "netns:index:VethPair", name: "a::b" });
        assert.throws(() => parseUrn("blue"), /not a resource URN/);
    });

    it("check gives a resource the owner token a TypeScript program's class gives it (same project, stack and name)", async () => {
        const r = await p.check!(urn("Netns", "blue"), {}, { name: "blue" });
        assert.deepEqual(r.failures, []);
        assert.equal(r.inputs.owner, ownerToken("lab", "dev", "Netns", "blue"));
        assert.equal("loopbackUp" in r.inputs, false, "defaults left out as the dynamic provider leaves them out");
        assert.equal(r.inputs.resourceName, undefined, "the resource's name for messages is not an input");
    });

    it("check refuses bad input with the dynamic provider's failures, word for word", async () => {
        for (const [kind, news] of [["VethPair", { name: "a-name-longer-than-15", peerName: "b", peerAdresses: [] }], ["Route", { destination: "10.1.1.1/16" }], ["MasqueradeRule", { source: "10.0.0.0/8", outInterface: "eth0", excludeOutInterface: "eth1" }]] as const) {
            const viaPlugin = await p.check!(urn(kind, "x"), {}, news);
            const dynamic = await kinds[kind].provider.check!({}, { ...news, owner: ownerToken("lab", "dev", kind, "x") });
            assert.ok(viaPlugin.failures!.length > 0, `${kind}: no failure`);
            assert.deepEqual(viaPlugin.failures, dynamic.failures);
        }
    });

    it("keeps connection secret in the checked inputs, and any input that came in secret", async () => {
        const r = await p.check!(urn("Netns", "blue"), {}, { name: secret("blue"), connection: { host: "192.0.2.1", privateKey: secret(KEY) } });
        assert.deepEqual(r.failures, []);
        assert.deepEqual(r.inputs.name, secret("blue"));
        assert.equal(r.inputs.connection[SIG], SECRET);
        assert.equal(r.inputs.connection.value.privateKey, KEY);
        assert.equal(r.inputs.connection.value.port, 22);
    });

    it("diff sees through secrets: the same values are no change", async () => {
        const olds = { name: "blue", loopbackUp: true, owner: ownerToken("lab", "dev", "Netns", "blue"), path: "/run/netns/blue" };
        assert.equal((await p.diff!("blue", urn("Netns", "blue"), olds, { ...olds, name: secret("blue") })).changes, false);
        const d = await p.diff!("blue", urn("Netns", "blue"), olds, { ...olds, name: "green" });
        assert.deepEqual([d.changes, d.replaces, d.deleteBeforeReplace], [true, ["name"], true]);
    });

    it("names the types it has when asked for another", async () => {
        await assert.rejects(p.check!("urn:pulumi:dev::lab::netns:index:Nope::x", {}, {}), /has no resource type netns:index:Nope \(it has netns:index:Netns, /);
    });
});
