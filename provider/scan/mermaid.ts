/** scan's Mermaid flowchart of a topology. */
import type { Link } from "../linux/link";
import { ident } from "./declarations";
import type { Topology } from "./topology";

/** The topology as a Mermaid flowchart: namespaces as boxes, links with their addresses, veth pairs and bridge ports as edges. */
export function renderMermaid(topo: Topology): string {
    const taken = new Set<string>();
    const id = new Map<string, string>();
    const node = (ns: string | undefined, name: string) => {
        const k = `${ns ?? ""}/${name}`;
        if (!id.has(k)) id.set(k, ident(`${ns ?? "root"}_${name}`, taken));
        return id.get(k)!;
    };
    const label = (l: Link, kind: string) => `${l.name} (${kind})${l.addresses.map((a) => `<br/>${a}`).join("")}`;
    const lines = ["flowchart LR"];
    const groups = [undefined, ...topo.namespaces.map((n) => n.name)];
    for (const ns of groups) {
        const members = [
            ...topo.bridges.filter((b) => b.netns === ns).map((b) => `    ${node(ns, b.link.name)}[["${label(b.link, "bridge")}"]]`),
            ...topo.veths.flatMap((v) => [v.end, v.peer]).filter((e) => e.netns === ns).map((e) => `    ${node(ns, e.link.name)}["${label(e.link, "veth")}"]`),
            ...topo.macvlans.filter((m) => m.netns === ns).map((m) => `    ${node(ns, m.link.name)}["${label(m.link, "macvlan")}"]`),
            ...topo.vxlans.filter((x) => x.netns === ns).map((x) => `    ${node(ns, x.link.name)}["${label(x.link, `vxlan ${x.spec.vni}`)}"]`),
        ];
        lines.push(`  subgraph ${ident(`ns_${ns ?? "root"}`, taken)}["${ns ?? "root namespace"}"]`, ...(members.length ? members : [`    ${ident(`${ns ?? "root"}_empty`, taken)}(( ))`]), "  end");
    }
    for (const v of topo.veths) lines.push(`  ${node(v.end.netns, v.end.link.name)} <-->|veth| ${node(v.peer.netns, v.peer.link.name)}`);
    for (const e of [...topo.veths.flatMap((v) => [v.end, v.peer]), ...topo.vxlans]) {
        if (e.link.master) lines.push(`  ${node(e.netns, e.link.name)} -->|port of| ${node(e.netns, e.link.master)}`);
    }
    for (const m of topo.macvlans) lines.push(`  ${node(m.netns, m.link.name)} -->|macvlan on| ${node(undefined, m.parent)}`);
    for (const x of topo.vxlans) lines.push(`  ${node(x.netns, x.link.name)} -.->|${x.spec.remote ? `to ${x.spec.remote}` : x.remotes ? `to ${x.remotes.join(", ")}` : `group ${x.spec.group}`}| ${x.spec.device ? node(x.netns, x.spec.device) : ident(`${x.netns ?? "root"}_${x.link.name}_underlay`, taken)}`);
    return lines.join("\n") + "\n";
}
