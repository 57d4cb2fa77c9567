import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { renderMermaid, renderProgram } from "../../provider/scan";
import { emptyTopology, natTopology } from "./fixtures/topology";

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, "fixtures", name), "utf8");

describe("scan/program and scan/mermaid: a topology rendered (no commands)", () => {
    it("renders the program of fixtures/nat-program.ts (which npm test type-checks with the package)", () => {
        const program = renderProgram(natTopology(), { connection: { host: "192.0.2.10", user: "ops" }, sudo: true }, "ops@192.0.2.10");
        const expected = fixture("nat-program.ts").split("\n").slice(2).join("\n");
        assert.equal(program.replace(/ on \d{4}-\d{2}-\d{2}\./, " on DATE."), expected);
    });

    it("wires through outputs: a veth after its bridge and namespace, a route on the veth's end, rules on the chain and the interface", () => {
        const program = renderProgram(natTopology());
        const at = (text: string) => program.indexOf(text);
        assert.ok(at("const br0 =") < at("master: br0.name") && at("const blue =") < at("peerNetns: blue.name"));
        assert.match(program, /new netns\.Route\("blue-default", \{ [^}]*device: veth0\.peerName, netns: veth0\.peerNetns/);
        assert.match(program, /jump: chain_blue_OTHER_TOOL\.name/);
        assert.match(program, /chain: chain_blue_OTHER_TOOL\.name/);
        assert.match(program, /inInterface: veth0\.peerName/);
        assert.match(program, /\{ dependsOn: \[rule_blue_input\] \}/);
        assert.doesNotMatch(program, /connection|sudo/, "none without a target");
    });

    it("an empty host is a program with nothing in it, and a chart with the root namespace alone", () => {
        assert.doesNotMatch(renderProgram(emptyTopology()), /new netns\./);
        assert.equal(renderMermaid(emptyTopology()), 'flowchart LR\n  subgraph ns_root["root namespace"]\n    root_empty(( ))\n  end\n');
    });

    it("draws the Mermaid chart of fixtures/nat.mmd", () => {
        assert.equal(renderMermaid(natTopology()), fixture("nat.mmd"));
    });
});
