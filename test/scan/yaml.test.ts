import { strict as assert } from "assert";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { declare, pluginDir, renderYaml, yamlString } from "../../provider/scan";
import { yamlRef } from "../../provider/scan/yaml";
import { REPO_ROOT } from "../helpers/host";
import { emptyTopology, natTopology } from "./fixtures/topology";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");
const PLUGINS = "/opt/pulumi-netns/bin";
const load = (text: string) => yaml.load(text) as any;

describe("scan/yaml: a topology as a Pulumi YAML program (no commands)", () => {
    it("renders the program of fixtures/nat-program.yaml", () => {
        const program = renderYaml(natTopology(), { connection: { host: "192.0.2.10", user: "ops" }, sudo: true }, "ops@192.0.2.10", PLUGINS);
        const expected = fixture("nat-program.yaml").split("\n").slice(2).join("\n");
        assert.equal(program.replace(/ on \d{4}-\d{2}-\d{2}\./, " on DATE."), expected);
    });

    it("parses back as a Pulumi.yaml: the project, the plugin's folder, a netns:index resource per declaration with adopt, references to declared outputs", () => {
        const doc = load(renderYaml(natTopology(), { connection: { host: "192.0.2.10", user: "ops" }, sudo: true }, "ops@192.0.2.10", PLUGINS));
        assert.equal(doc.name, "netns-scan");
        assert.equal(doc.runtime, "yaml");
        assert.deepEqual(doc.plugins, { providers: [{ name: "netns", path: PLUGINS }] });
        assert.deepEqual(doc.variables, { connection: { host: "192.0.2.10", user: "ops" } });
        const decls = declare(natTopology());
        assert.deepEqual(Object.keys(doc.resources), decls.map((d) => d.key));
        for (const d of decls) {
            const r = doc.resources[d.key];
            assert.equal(r.type, `netns:index:${d.kind}`);
            assert.deepEqual(Object.keys(r.properties), [...Object.keys(d.inputs), "connection", "sudo", "adopt"], d.key);
            assert.equal(r.properties.adopt, true);
            assert.equal(r.properties.sudo, true);
            assert.equal(r.properties.connection, "${connection}");
            // Every interpolation names a resource declared before it, and one of its inputs (every output here is an input of that name).
            for (const v of Object.values<unknown>(r.properties).filter((x): x is string => typeof x === "string" && x.startsWith("${") && x !== "${connection}")) {
                const [, key, output] = /^\$\{([^.}]+)\.(\w+)\}$/.exec(v)!;
                assert.ok(Object.keys(doc.resources).indexOf(key) < Object.keys(doc.resources).indexOf(d.key), `${d.key}: ${v} is declared after it`);
                assert.ok(output in doc.resources[key].properties, `${d.key}: ${v}`);
            }
        }
        assert.equal(doc.resources.veth0.properties.master, "${br0.name}");
        assert.equal(doc.resources["blue-default"].properties.netns, "${veth0.peerNetns}");
        assert.deepEqual(doc.resources["rule-blue-input2"].options, { dependsOn: ["${rule-blue-input}"] });
        assert.deepEqual(doc.resources.blue.properties.dns, { nameservers: ["192.0.2.53"] });
        assert.equal(doc.resources["rule-blue-input2"].properties.destinationPort, 22);
        assert.equal(doc.resources["rule-blue-input-v6"].properties.family, 6);
    });

    it("without a connection: no variables, no connection or sudo; an empty host is a project without resources", () => {
        const doc = load(renderYaml(natTopology(), {}, "this host", PLUGINS));
        assert.equal(doc.variables, undefined);
        assert.deepEqual(doc.resources.br0.properties, { name: "br0", addresses: ["10.1.1.1/24"], mac: "0a:00:00:00:00:03", adopt: true });
        const empty = load(renderYaml(emptyTopology(), {}, "this host", PLUGINS));
        assert.deepEqual(Object.keys(empty), ["name", "runtime", "plugins"]);
    });

    it("names its variable apart from a resource of that name, and writes literal dollars as $$ (Pulumi YAML's escape)", () => {
        const topo = natTopology();
        topo.bridges[0].link.name = topo.veths[0].end.link.master = "connection";
        topo.rules.push({ netns: "blue", family: 4, table: "filter", chain: "INPUT", args: { jump: "LOG", logPrefix: "${HOME} $x" } });
        const doc = load(renderYaml(topo, { connection: { host: "192.0.2.10" } }, "192.0.2.10", PLUGINS));
        assert.deepEqual(doc.variables, { connection_: { host: "192.0.2.10" } });
        assert.equal(doc.resources.connection.properties.connection, "${connection_}");
        assert.equal(doc.resources.veth0.properties.master, "${connection.name}");
        assert.equal(doc.resources["rule-blue-input3"].properties.logPrefix, "$${HOME} $$x");
    });

    it("gives two resources of one name distinct keys, and references a name that is not a word by subscript", () => {
        const topo = natTopology();
        topo.bridges[0].link.name = topo.veths[0].end.link.master = "blue"; // the namespace's name
        topo.veths[0].end.link.name = "v.1";
        const decls = declare(topo);
        assert.deepEqual(decls.slice(0, 3).map((d) => [d.kind, d.name, d.key]), [["Netns", "blue", "blue"], ["Bridge", "blue", "blue-bridge"], ["VethPair", "v.1", "v.1"]]);
        const doc = load(renderYaml(topo, {}, "this host", PLUGINS));
        assert.equal(doc.resources["v.1"].properties.master, "${blue-bridge.name}");
        assert.equal(doc.resources["blue-default"].properties.netns, '${["v.1"].peerNetns}');
        assert.equal(yamlRef('a"b', "name"), '${["a\\"b"].name}');
    });

    it("quotes every string that YAML could read as something else, in block and flow context alike", () => {
        const strings = ["blue", "br-lan", "veth0.100", "10.1.1.1/24", "fd00::1", "0a:00:00:00:00:01", "", " lead", "trail ", "yes", "No", "ON", "off", "y", "n", "true", "False", "null", "~",
            "1e3", "0x10", "0o17", "1:20", ".inf", "-.nan", "-", "-x", "? x", ": x", "a: b", "a #b", "#c", "[x]", "{x}", "a,b", "&a", "*a", "!tag", "|", ">", "'q'", '"q"', "%x", "@x", "`x`",
            "back\\slash", "new\nline", "tab\there", "\u0000", "\u007f", "\u0085", "caf\u00e9", "\u2028", "\ufeff", "\ud83d\ude00", "${x.y}", "$$", "2001:db8::1", "netns:index:Netns"];
        for (const s of strings) {
            assert.deepEqual(load(`k: ${yamlString(s)}`), { k: s }, JSON.stringify(s));
            assert.deepEqual(load(`k: [${yamlString(s)}, ${yamlString(s)}]`), { k: [s, s] }, JSON.stringify(s));
            assert.deepEqual(load(`${yamlString(s)}: 1`), { [s]: 1 }, JSON.stringify(s));
        }
        assert.equal(yamlString("blue"), "blue", "a plain word stays plain");
        assert.equal(yamlString("yes"), '"yes"');
        assert.equal(yamlString("a\u0085b"), '"a\\u0085b"');
    });

    it("finds the plugin's folder at the root of the package it runs from", () => {
        assert.equal(pluginDir(), path.join(REPO_ROOT, "bin"));
    });
});
