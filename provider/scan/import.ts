/**
 * `pulumi import` of what scan declares: each object's import id (one grammar per kind, reading like
 * what it names: `blue/veth0`, `blue/default`, `-t nat -A POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE`),
 * the import file `pulumi import --file` takes, and {@link importInputs}, which finds the object an id
 * names on a host and gives the inputs that declare it as scan would.
 */
import * as path from "path";
import { z } from "zod";
import { inNamespace, same } from "../core/diff";
import { addressFamily, canonicalPrefix, parsePrefix } from "../core/ip";
import { OWNER_PREFIX } from "../core/owner";
import { IfName, NetnsName, networkProblem, stripUndefined } from "../core/schema";
import { Family, listRules, parseRuleLine, Rule } from "../linux/iptables";
import { getLink, listLinks } from "../linux/link";
import { readMarkerFile } from "../linux/marker";
import { listNetns, netnsId, netnsOwner } from "../linux/netns";
import { getRoute, ROUTE_PROTO } from "../linux/route";
import { SYSCTL_MARKER_DIR } from "../linux/sysctl";
import { Target, targetId } from "../linux/target";
import { ChainPolicySchema, POLICY_MARKER_DIR } from "../resources/chain-policy";
import { forwardRule, ForwardRuleSchema } from "../resources/forward";
import { CHAIN_MARKER_DIR, IptablesChainSchema } from "../resources/iptables-chain";
import { iptablesRule, IptablesRuleSchema, parseIptablesRule } from "../resources/iptables-rule";
import { masqueradeRule, MasqueradeRuleSchema } from "../resources/masquerade";
import { portForwardRules, PortForwardSchema } from "../resources/portforward";
import { declare, Declaration, Kind, KINDS, literalInputs } from "./declarations";
import { scanHost } from "./host";
import { forwardInputs, masqueradeInputs } from "./rules";
import type { Topology } from "./topology";

/** The type token of a kind: `netns:index:Bridge`. */
export const typeToken = (kind: Kind) => `netns:index:${kind}`;

/** Each kind's import id: its grammar and an example. `NETNS/` is the namespace the object is in (none: the root namespace). */
export const IMPORT_GRAMMAR: Record<Kind, { grammar: string; example: string }> = {
    Netns: { grammar: "NAME", example: "blue" },
    Bridge: { grammar: "[NETNS/]NAME", example: "br0" },
    VethPair: { grammar: "[NETNS/]NAME, NAME being its first end (its `name`; the peer is found from it)", example: "veth0" },
    Macvlan: { grammar: "[NETNS/]NAME", example: "blue/mv0" },
    Vxlan: { grammar: "[NETNS/]NAME", example: "left/vx0" },
    Route: { grammar: "[NETNS/][-6 ]DESTINATION[ table TABLE][ metric METRIC], DESTINATION being default or a network prefix", example: "blue/default" },
    MasqueradeRule: { grammar: "[NETNS/][-6 ]-t nat -A POSTROUTING -s NETWORK [-d NETWORK] [-o IF | ! -o IF] -j MASQUERADE (the rule as iptables -S prints it)", example: "-t nat -A POSTROUTING -s 10.0.0.0/24 -o eth0 -j MASQUERADE" },
    ForwardRule: { grammar: "[NETNS/][-6 ]-A FORWARD [-s NETWORK] [-d NETWORK] [-i IF] [-o IF] [-m conntrack --ctstate RELATED,ESTABLISHED] -j ACCEPT (the rule as iptables -S prints it)", example: "-A FORWARD -i br0 -j ACCEPT" },
    PortForward: { grammar: "[NETNS/]PROTOCOL [HOSTADDRESS:]HOSTPORT to ADDRESS:PORT, IPv6 addresses in brackets", example: "tcp 8080 to 10.1.0.2:80" },
    SysctlForward: { grammar: "[NETNS/]SYSCTL[ SYSCTL], each net.ipv4.ip_forward or net.ipv6.conf.all.forwarding (those it holds)", example: "net.ipv4.ip_forward" },
    ChainPolicy: { grammar: "[NETNS/][-6 ][-t TABLE ]-P CHAIN POLICY (as iptables -S prints it)", example: "blue/-P FORWARD DROP" },
    IptablesChain: { grammar: "[NETNS/][-6 ][-t TABLE ]-N CHAIN (as iptables -S prints it)", example: "blue/-N MY-CHAIN" },
    IptablesRule: { grammar: "[NETNS/][-6 ][-t TABLE ]-A CHAIN RULE (the rule as iptables -S prints it)", example: "blue/-A INPUT -p tcp -m tcp --dport 22 -j ACCEPT" },
};

const LINKS: readonly Kind[] = ["Bridge", "VethPair", "Macvlan", "Vxlan"];
const RULES: readonly Kind[] = ["MasqueradeRule", "ForwardRule", "PortForward", "IptablesRule"];
const SYSCTLS = { ipv4: "net.ipv4.ip_forward", ipv6: "net.ipv6.conf.all.forwarding" } as const;
/** An owner token that only fills the place of one: ids and inputs never carry a real one. */
const ANY_OWNER = `${OWNER_PREFIX}${"0".repeat(16)}`;

/** The kind a type token or class name names (`netns:index:Bridge`, `Bridge`). */
export function kindOf(kind: string): Kind {
    const k = kind.replace(/^netns:index:/, "");
    if (!(KINDS as readonly string[]).includes(k)) throw new Error(`pulumi-netns has no importable resource ${JSON.stringify(kind)}: it imports ${KINDS.map(typeToken).join(", ")}`);
    return k as Kind;
}

/** "a Bridge", "an IptablesRule". */
const an = (kind: Kind, capital = false) => `${/^[AEIOU]/.test(kind) ? (capital ? "An" : "an") : capital ? "A" : "a"} ${kind}`;

/** A malformed import id: why, in a sentence. */
class BadId extends Error {}

/** The first issue of a failed parse, as a sentence. */
function issue(error: z.ZodError): string {
    const i = error.issues[0];
    return `${i.path.length ? `${i.path.join(".")}: ` : ""}${i.message}`;
}

/** Parses `v` with a resource's schema (an owner filled in), or fails naming its first issue. */
function valid<S extends z.ZodType>(schema: S, v: Record<string, unknown>): z.infer<S> {
    const r = schema.safeParse(stripUndefined({ ...v, owner: ANY_OWNER }));
    if (!r.success) throw new BadId(issue(r.error));
    return r.data;
}

/** An iptables id's family, table and what follows `op` (`-A`, `-P`, `-N`): `[-6 ][-t TABLE ]OP …`. */
function iptablesId(text: string, op: "-A" | "-P" | "-N"): { family: Family; table: string; rest: string[] } {
    const tokens = parseRuleLine(text);
    let i = 0;
    const family: Family = tokens[0] === "-6" ? 6 : 4;
    if (family === 6) i++;
    let table = "filter";
    if (tokens[i] === "-t") {
        if (tokens[i + 1] === undefined) throw new BadId("-t names no table");
        table = tokens[i + 1];
        i += 2;
    }
    if (tokens[i] !== op) throw new BadId(`expected ${op} ${op === "-N" ? "CHAIN" : op === "-P" ? "CHAIN POLICY" : "CHAIN RULE"}${i ? ` after ${tokens.slice(0, i).join(" ")}` : ""}, found ${tokens[i] === undefined ? "nothing" : JSON.stringify(tokens[i])}`);
    return { family, table, rest: tokens.slice(i + 1) };
}

/** The inputs (in a declaration's form) an id names, in namespace `netns`; throws {@link BadId}. */
function parseIn(kind: Kind, netns: string | undefined, text: string): Record<string, unknown> {
    switch (kind) {
        case "Netns": {
            const r = NetnsName.safeParse(text);
            if (!r.success) throw new BadId(issue(r.error));
            return { name: text };
        }
        case "Bridge": case "VethPair": case "Macvlan": case "Vxlan": {
            const r = IfName.safeParse(text);
            if (!r.success) throw new BadId(issue(r.error));
            return { name: text, netns };
        }
        case "Route": {
            const tokens = text.trim().split(/\s+/);
            const six = tokens[0] === "-6";
            const [destination, ...rest] = six ? tokens.slice(1) : tokens;
            if (destination === undefined || destination === "") throw new BadId("no destination");
            const why = destination === "default" ? undefined : networkProblem(destination);
            if (why) throw new BadId(`destination ${destination} ${why}`);
            const family = destination === "default" ? (six ? 6 : 4) : parsePrefix(destination)!.family;
            if (six && family === 4) throw new BadId(`-6 with the IPv4 destination ${destination}`);
            const out: Record<string, unknown> = { destination: destination === "default" ? destination : canonicalPrefix(destination), netns };
            for (let i = 0; i < rest.length; i += 2) {
                const [word, v] = [rest[i], rest[i + 1]];
                if ((word !== "table" && word !== "metric") || v === undefined || word in out) throw new BadId(`expected " table TABLE" then " metric METRIC" after the destination, found ${JSON.stringify(rest.slice(i).join(" "))}`);
                if (word === "metric" && !/^\d+$/.test(v)) throw new BadId(`metric ${v} is not a whole number`);
                if (word === "table" && !/^(main|local|default|\d+)$/.test(v)) throw new BadId(`table ${v}: a number, main, local or default`);
                out[word] = /^\d+$/.test(v) ? Number(v) : v;
            }
            return { ...out, family };
        }
        case "MasqueradeRule": {
            const { family, table, rest } = iptablesId(text, "-A");
            if (table !== "nat" || rest[0] !== "POSTROUTING") throw new BadId("a MASQUERADE rule is in -t nat -A POSTROUTING");
            const m = masqueradeInputs(rest.slice(1));
            if (!m) throw new BadId("not a rule a MasqueradeRule makes: -s NETWORK, optionally -d NETWORK, -o IF or ! -o IF, then -j MASQUERADE");
            const a = valid(MasqueradeRuleSchema, { ...m, netns });
            if (parsePrefix(a.source)!.family !== family) throw new BadId(`${a.source} is IPv${parsePrefix(a.source)!.family}: ${family === 6 ? "leave out -6" : "start with -6 for ip6tables"}`);
            return { source: a.source, destination: a.destination, outInterface: a.outInterface, excludeOutInterface: a.excludeOutInterface, netns };
        }
        case "ForwardRule": {
            const { family, table, rest } = iptablesId(text, "-A");
            if (table !== "filter" || rest[0] !== "FORWARD") throw new BadId("a ForwardRule's rule is in -A FORWARD (the filter table)");
            const f = forwardInputs(rest.slice(1));
            if (!f) throw new BadId("not a rule a ForwardRule makes: any of -s NETWORK, -d NETWORK, -i IF, -o IF, -m conntrack --ctstate RELATED,ESTABLISHED, then -j ACCEPT");
            const a = valid(ForwardRuleSchema, { ...f, family, netns });
            return { inInterface: a.inInterface, outInterface: a.outInterface, source: a.source, destination: a.destination, established: a.established || undefined, family: family === 6 ? 6 : undefined, netns };
        }
        case "IptablesRule": {
            const { family, table, rest } = iptablesId(text, "-A");
            const [chain, ...args] = rest;
            if (chain === undefined) throw new BadId("-A names no chain");
            const parsed = parseIptablesRule(args);
            if ("problem" in parsed) throw new BadId(parsed.problem);
            if (parsed.comment !== undefined) throw new BadId("an id names a rule without its comment (-m comment): a rule carrying one is another tool's, or a stack's");
            valid(IptablesRuleSchema, { ...parsed.args, table, chain, family, netns });
            return { table: table === "filter" ? undefined : table, chain, family, ...parsed.args, netns };
        }
        case "ChainPolicy": {
            const { family, table, rest } = iptablesId(text, "-P");
            if (rest.length !== 2) throw new BadId("-P takes a chain and its policy: -P FORWARD DROP");
            const a = valid(ChainPolicySchema, { chain: rest[0], table, policy: rest[1], family, netns });
            return { chain: a.chain, table: a.table === "filter" ? undefined : a.table, policy: a.policy, family: family === 6 ? 6 : undefined, netns };
        }
        case "IptablesChain": {
            const { family, table, rest } = iptablesId(text, "-N");
            if (rest.length !== 1) throw new BadId("-N takes one chain's name: -N MY-CHAIN");
            const a = valid(IptablesChainSchema, { name: rest[0], table, family, netns });
            return { name: a.name, table: a.table === "filter" ? undefined : a.table, family: family === 6 ? 6 : undefined, netns };
        }
        case "PortForward": {
            const m = /^(\S+)\s+(\S+)\s+to\s+(\S+)$/.exec(text.trim());
            if (!m) throw new BadId("expected PROTOCOL [HOSTADDRESS:]HOSTPORT to ADDRESS:PORT");
            const host = /^(?:(?:\[([^\]]+)\]|([^:[\]]+)):)?(\d+)$/.exec(m[2]);
            const to = /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d+))?$/.exec(m[3]);
            if (!host) throw new BadId(`${m[2]} is not [HOSTADDRESS:]HOSTPORT (an IPv6 address in brackets: [2001:db8::1]:8080)`);
            if (!to) throw new BadId(`${m[3]} is not ADDRESS:PORT (an IPv6 address in brackets: [fd00::2]:80)`);
            const hostPort = Number(host[3]);
            const toPort = to[3] === undefined || Number(to[3]) === hostPort ? undefined : Number(to[3]);
            const a = valid(PortForwardSchema, { protocol: m[1], hostPort, hostAddress: host[1] ?? host[2], toAddress: to[1] ?? to[2], toPort, netns });
            return { protocol: a.protocol, hostPort: a.hostPort, hostAddress: a.hostAddress, toAddress: a.toAddress, toPort: a.toPort, netns };
        }
        case "SysctlForward": {
            const keys = text.trim().split(/\s+/);
            const bad = keys.find((k) => !Object.values(SYSCTLS).includes(k as never));
            if (bad !== undefined) throw new BadId(`${JSON.stringify(bad)} is not ${SYSCTLS.ipv4} or ${SYSCTLS.ipv6}`);
            if (new Set(keys).size !== keys.length) throw new BadId("names a sysctl twice");
            return { netns, ipv4: keys.includes(SYSCTLS.ipv4) ? undefined : false, ipv6: keys.includes(SYSCTLS.ipv6) ? true : undefined };
        }
    }
}

/**
 * Parses an import id of `kind` (its grammar: {@link IMPORT_GRAMMAR}) into its namespace and the
 * inputs it names (those {@link importId} prints, in a declaration's form). A bad id throws an Error
 * that says why, and states the kind's grammar with an example.
 */
export function parseImportId(kind: string, id: string): { netns?: string; inputs: Record<string, unknown> } {
    const k = kindOf(kind);
    // A namespace's name holds no '/', and the text after it is a whole id: a root route's prefix (10.0.0.0/24) is not one.
    const slash = id.indexOf("/");
    const ns = slash > 0 && k !== "Netns" && NetnsName.safeParse(id.slice(0, slash)).success ? id.slice(0, slash) : undefined;
    let inNs: BadId | undefined;
    if (ns !== undefined) {
        try {
            return stripUndefined({ netns: ns, inputs: stripUndefined(parseIn(k, ns, id.slice(slash + 1))) });
        } catch (err) {
            if (!(err instanceof BadId)) throw err;
            inNs = err;
        }
    }
    try {
        return { inputs: stripUndefined(parseIn(k, undefined, id)) };
    } catch (err) {
        if (!(err instanceof BadId)) throw err;
        const rest = id.slice(slash + 1).replace(/^-6\s+/, "");
        const why = inNs && (k !== "Route" || rest.startsWith("default") || rest.includes("/")) ? inNs : err;
        const g = IMPORT_GRAMMAR[k];
        throw new Error(
            `bad import id for ${typeToken(k)} ${JSON.stringify(id)}: ${why.message.replace(/[.?]$/, "")}. ${an(k, true)}'s id is ${g.grammar}, e.g. ${JSON.stringify(g.example)}` +
                (k === "Netns" ? "" : "; NETNS/ is the namespace it is in, none for the root namespace"),
        );
    }
}

/** A rule's arguments as `iptables -S` prints them: a comment or log prefix quoted unless it is only letters, digits, '_' and '-'. */
function ruleText(spec: string[]): string {
    return spec.map((a, i) => ((["--comment", "--log-prefix"].includes(spec[i - 1]) && !/^[\w-]+$/.test(a)) || a === "" ? `"${a.replace(/(["\\])/g, "\\$1")}"` : a)).join(" ");
}

/** The family a Route's inputs make (as Route infers it: its destination's, else its gateway's, else its source's, else IPv4), or the one given. */
function routeFamily(a: Record<string, unknown>): Family {
    const of = (v: unknown) => (typeof v !== "string" || v === "default" ? undefined : v.includes("/") ? parsePrefix(v)?.family : addressFamily(v));
    return (a.family as Family | undefined) ?? of(a.destination) ?? of(a.gateway) ?? of(a.source) ?? 4;
}

/** `[-6 ][-t TABLE ]`: an iptables id's family and table, each left out where it is the default. */
const iptablesPrefix = (family: unknown, table: unknown) => `${family === 6 ? "-6 " : ""}${table !== undefined && table !== "filter" ? `-t ${table} ` : ""}`;

/** A host address as an id writes it: an IPv6 one in brackets. */
const bracketed = (address: string) => (address.includes(":") ? `[${address}]` : address);

/** The rules a rule resource of these inputs makes (with a placeholder owner). */
function rulesOf(kind: Kind, a: Record<string, unknown>): Rule[] {
    const owned = { ...a, owner: ANY_OWNER } as any;
    switch (kind) {
        case "MasqueradeRule": return [masqueradeRule(owned)];
        case "ForwardRule": return [forwardRule(owned)];
        case "PortForward": return portForwardRules(PortForwardSchema.parse(stripUndefined(owned)));
        case "IptablesRule": return [iptablesRule(IptablesRuleSchema.parse(stripUndefined(owned)))];
        default: return [];
    }
}

/**
 * The import id of a resource of `kind` with these inputs (a declaration's: a reference stands for its
 * value), in the grammar of {@link IMPORT_GRAMMAR}: what `pulumi import` takes to find the object again.
 */
export function importId(kind: string, inputs: Record<string, unknown>): string {
    const k = kindOf(kind);
    const a = literalInputs({ inputs });
    const ns = a.netns === undefined ? "" : `${a.netns}/`;
    switch (k) {
        case "Netns":
            return String(a.name);
        case "Bridge": case "VethPair": case "Macvlan": case "Vxlan":
            return `${ns}${a.name}`;
        case "Route":
            return `${ns}${routeFamily(a) === 6 ? "-6 " : ""}${a.destination}${a.table !== undefined && a.table !== "main" ? ` table ${a.table}` : ""}${a.metric !== undefined ? ` metric ${a.metric}` : ""}`;
        case "MasqueradeRule": case "ForwardRule": case "IptablesRule": {
            const [rule] = rulesOf(k, a);
            return `${ns}${iptablesPrefix(rule.family, rule.table)}-A ${rule.chain} ${ruleText(rule.spec)}`;
        }
        case "PortForward": {
            const to = String(a.toAddress).split("/")[0];
            return `${ns}${a.protocol} ${a.hostAddress === undefined ? "" : `${bracketed(String(a.hostAddress))}:`}${a.hostPort} to ${bracketed(to)}:${a.toPort ?? a.hostPort}`;
        }
        case "SysctlForward":
            return `${ns}${[a.ipv4 !== false ? SYSCTLS.ipv4 : undefined, a.ipv6 === true ? SYSCTLS.ipv6 : undefined].filter(Boolean).join(" ")}`;
        case "ChainPolicy":
            return `${ns}${iptablesPrefix(a.family, a.table)}-P ${a.chain} ${a.policy}`;
        case "IptablesChain":
            return `${ns}${iptablesPrefix(a.family, a.table)}-N ${a.name}`;
    }
}

/** The id the resource's own create gives the object: a namespace's name, a link's `NETNS/NAME`, a route's `NETNS/TABLE/DESTINATION/METRIC`; the others' is their owner token, which an import has not yet: its canonical import id. */
function resourceId(kind: Kind, a: Record<string, unknown>, canonical: string): string {
    if (kind === "Netns") return String(a.name);
    if (LINKS.includes(kind)) return `${a.netns ?? ""}/${a.name}`;
    if (kind === "Route") return [a.netns ?? "", a.table ?? "main", a.destination, a.metric ?? ""].join("/");
    return canonical;
}

/** A declaration's import id; undefined for one that has none (its inputs are not a resource's: it would fail `pulumi up` too). */
function idOf(d: Declaration): string | undefined {
    try {
        return importId(d.kind, d.inputs);
    } catch {
        return undefined;
    }
}

/**
 * The file `pulumi import --file FILE` takes: every declared object with its type token, resource
 * name (a YAML program's, unique) and import id, one a line.
 */
export function renderImport(topo: Topology): string {
    const rows = declare(topo).map((d) => JSON.stringify({ type: typeToken(d.kind), name: d.key, id: importId(d.kind, d.inputs) }));
    return `{\n  "resources": [${rows.length ? `\n    ${rows.join(",\n    ")}\n  ` : ""}]\n}\n`;
}

/** The pulumi-netns marker files in `dir` (a chain's, a policy's, forwarding's), with the owner token each is named after. */
async function markerFiles(t: Target, dir: string): Promise<{ owner: string; marker: Record<string, unknown> }[]> {
    const r = await t.tryRun(["ls", "-1A", "--", dir]);
    if (r.exitCode !== 0) return [];
    const names = r.stdout.split("\n").filter((n) => n && !n.endsWith(".tmp"));
    const read = await Promise.all(names.map(async (n) => ({ owner: n.replace(/^pulumi-netns_/, OWNER_PREFIX), marker: await readMarkerFile<Record<string, unknown>>(t, path.join(dir, n), (d) => typeof d === "object") })));
    return read.filter((m): m is { owner: string; marker: Record<string, unknown> } => m.marker !== undefined);
}

/** The pulumi-netns marker the object an id names carries (an owner token, or `proto 250`), if it carries one: then a stack owns it. */
async function ownerOf(t: Target, kind: Kind, netns: string | undefined, a: Record<string, unknown>): Promise<string | undefined> {
    if (kind === "Netns") {
        const owner = await netnsOwner(t, String(a.name));
        return typeof owner === "string" ? owner : undefined;
    }
    if (LINKS.includes(kind)) {
        const link = await getLink(t, String(a.name), netns);
        return link?.alias?.startsWith(OWNER_PREFIX) ? link.alias : undefined;
    }
    if (kind === "Route") {
        const found = await getRoute(t, { family: routeFamily(a), destination: String(a.destination), metric: a.metric as number | undefined, table: (a.table ?? "main") as "main" }, netns);
        return found?.protocol === String(ROUTE_PROTO) ? `proto ${ROUTE_PROTO}` : undefined;
    }
    if (RULES.includes(kind)) {
        // The rule (a port forward's PREROUTING DNAT) with an owner's comment: the same rule once the comment is taken out.
        const [rule] = rulesOf(kind, a);
        for (const line of (await listRules(t, rule.table, rule.chain, rule.family, netns)) ?? []) {
            const args = parseRuleLine(line).slice(2);
            const at = args.findIndex((x, i) => x === "-m" && args[i + 1] === "comment" && args[i + 2] === "--comment" && args[i + 3]?.startsWith(OWNER_PREFIX));
            if (at < 0) continue;
            const rest = [...args.slice(0, at), ...args.slice(at + 4)];
            if (rule.same ? rule.same(rest) : same(rest, rule.spec)) return args[at + 3];
        }
        return undefined;
    }
    // A chain, a policy, forwarding: a marker file naming this very one (in this namespace, not made again since).
    const inode = netns === undefined ? undefined : (await netnsId(t, netns))?.inode;
    const dir = kind === "IptablesChain" ? CHAIN_MARKER_DIR : kind === "ChainPolicy" ? POLICY_MARKER_DIR : SYSCTL_MARKER_DIR;
    const family = a.family ?? 4, table = a.table ?? "filter";
    const names = (m: Record<string, unknown>) =>
        kind === "IptablesChain" ? m.family === family && m.table === table && m.name === a.name
            : kind === "ChainPolicy" ? m.family === family && m.table === table && m.chain === a.chain
                : (a.ipv4 !== false && (m.previous as any)?.ipv4 !== undefined) || (a.ipv6 === true && (m.previous as any)?.ipv6 !== undefined);
    return (await markerFiles(t, dir)).find(({ marker: m }) => m.netns === netns && m.inode === inode && names(m))?.owner;
}

/** What an object of a kind is called in messages. */
const NOUN: Record<Kind, string> = {
    Netns: "namespace", Bridge: "bridge", VethPair: "veth pair", Macvlan: "macvlan", Vxlan: "VXLAN device", Route: "route",
    MasqueradeRule: "MASQUERADE rule", ForwardRule: "FORWARD rule", PortForward: "port forward", SysctlForward: "forwarding",
    ChainPolicy: "chain policy", IptablesChain: "user-defined chain", IptablesRule: "rule",
};

/** Why nothing scan declares has this id: what exists nearby, and what scan noted about it. */
async function notFound(t: Target, kind: Kind, canonical: string, netns: string | undefined, a: Record<string, unknown>, id: string, topo: Topology, decls: Declaration[]): Promise<Error> {
    const where = inNamespace(netns);
    const hints: string[] = [];
    // Declared, but as another kind (a MASQUERADE rule of MasqueradeRule's shape is one, not an IptablesRule).
    for (const other of KINDS.filter((x) => x !== kind)) {
        let theirs: string;
        try {
            theirs = importId(other, parseImportId(other, id).inputs);
        } catch {
            continue;
        }
        if (decls.some((d) => d.kind === other && idOf(d) === theirs)) hints.push(`scan declares it as ${an(other)}: import it as ${typeToken(other)} ${JSON.stringify(theirs)}`);
    }
    if (LINKS.includes(kind)) {
        const pair = decls.find((d) => d.kind === "VethPair" && literalInputs(d).peerName === a.name && literalInputs(d).peerNetns === netns);
        if (pair) hints.push(`${a.name} is the peer end of the veth pair ${JSON.stringify(idOf(pair))}: import that id as ${typeToken("VethPair")}`);
    }
    if (kind === "Route" && a.table !== undefined) hints.push("scan declares the routes of the main table only");
    const token = LINKS.includes(kind) ? String(a.name) : kind === "Route" ? `route ${a.destination}` : canonical.slice(netns === undefined ? 0 : netns.length + 1).replace(/^-6 /, "");
    const noted = topo.unmodelled.filter((u) => u.includes(token) && u.includes(where));
    if (noted.length) hints.push(`scan noted: ${noted.join("; ")}`);
    let nearby: string;
    if (kind === "Netns") nearby = `namespaces here: ${(await listNetns(t)).join(", ") || "none"}`;
    else if (LINKS.includes(kind)) nearby = `links there: ${(await listLinks(t, netns)).map((l) => `${l.name} (${l.kind ?? "device"})`).join(", ") || "none"}`;
    else {
        const ids = decls.filter((d) => d.kind === kind && literalInputs(d).netns === netns).map(idOf);
        nearby = `${kind} ids there: ${ids.length ? ids.map((x) => JSON.stringify(x)).join(", ") : "none"}`;
    }
    return new Error(`cannot import ${typeToken(kind)} ${JSON.stringify(canonical)}: no ${NOUN[kind]} with this id in ${where} that pulumi-netns scan declares as ${an(kind)}; ${[nearby, ...hints].join("; ")}`);
}

/**
 * `pulumi import` of one object: parses `id` (a bad one throws, stating the kind's grammar with an
 * example), scans target `t` (the namespace the id names and the root; every namespace for a link
 * or a route, whose declarations depend on the links around them), and returns the inputs that
 * declare the object exactly as `pulumi-netns scan` would (literal values: no references, and no
 * `adopt`, `connection`, `sudo` or `owner`), with the id the resource's own create gives it (its
 * canonical import id where that is its owner token). Throws when nothing scan declares has that
 * id (naming what exists nearby), or when a stack already owns the object (it carries a pulumi-netns marker).
 *
 * `opts.owner`: the owner token of the resource being imported. An object carrying exactly that token
 * (a link's alias, a rule's comment, the marker file of a namespace, a chain, a chain policy or
 * forwarding, a namespace's /etc file) is found and declared as if it carried no marker: the same
 * inputs and id. That is what the import's own earlier read left on it: the engine reads twice for one
 * `pulumi import` (its preview, then the import), and an import may be run again after failing
 * half-way. A route carries no token, only `proto 250`: with `opts.owner` given, a route of
 * `proto 250` is taken as this import's own, whichever resource marked it. An object carrying any
 * other token is refused as without `opts.owner`.
 */
export async function importInputs(t: Target, kind: string, id: string, opts: { owner?: string } = {}): Promise<{ id: string; inputs: Record<string, unknown> }> {
    const k = kindOf(kind);
    const { netns, inputs: a } = parseImportId(k, id);
    const canonical = importId(k, a);
    const namespaces = await listNetns(t);
    const ns = k === "Netns" ? String(a.name) : netns;
    if (ns !== undefined && !namespaces.includes(ns)) {
        throw new Error(`cannot import ${typeToken(k)} ${JSON.stringify(canonical)}: there is no namespace "${ns}" (namespaces here: ${namespaces.join(", ") || "none"})`);
    }
    const topo = await scanHost(t, LINKS.includes(k) || k === "Route" ? undefined : ns === undefined ? [] : [ns], { owner: opts.owner });
    const decls = declare(topo);
    const found = decls.find((d) => d.kind === k && idOf(d) === canonical);
    // Scan leaves out links, routes and rules a stack owns (but those of opts.owner); namespaces, chains, policies and forwarding it declares either way.
    if (!found || !(LINKS.includes(k) || RULES.includes(k) || k === "Route")) {
        const owner = await ownerOf(t, k, netns, a);
        const own = opts.owner !== undefined && (owner === opts.owner || k === "Route");
        if (owner !== undefined && !own) {
            throw new Error(`cannot import ${typeToken(k)} ${JSON.stringify(canonical)} in ${inNamespace(netns)}: it is already owned by a stack (it carries the pulumi-netns marker ${owner}); that stack manages it`);
        }
    }
    if (!found) throw await notFound(t, k, canonical, netns, a, id, topo, decls);
    const inputs = literalInputs(found);
    return { id: targetId(t, resourceId(k, inputs, canonical)), inputs };
}
