/**
 * scan's model of iptables: which listed rules, chains and policies a resource declares, and why the
 * others stay comments. Pure: it reads listings (\`iptables-save\`, parsed), never the host.
 */
import { inNamespace } from "../core/diff";
import { OWNER_PREFIX } from "../core/owner";
import { stripUndefined } from "../core/schema";
import { Family, iptablesTool, parseRuleLine, POLICY_CHAINS, SavedTable, Table } from "../linux/iptables";
import { forwardRule } from "../resources/forward";
import { IptablesRuleSchema, parseIptablesRule } from "../resources/iptables-rule";
import { masqueradeRule } from "../resources/masquerade";
import { PortForwardSchema, portForwardRules } from "../resources/portforward";
import { ScannedForward, ScannedMasquerade, ScannedPortForward, ScannedRule, Topology } from "./topology";
import { same } from "../core/diff";

/**
 * Models one namespace's tables of one family (as \`iptables-save\` lists them) into \`topo\`: the rules
 * of the shapes PortForward, MasqueradeRule and ForwardRule make as those, any other an IptablesRule
 * where one declares it, user-defined chains as IptablesChains, built-in chains' policies other than
 * ACCEPT as ChainPolicies; the rest as comments saying why. Runs nothing. `owner` (an import's own
 * token): a rule whose comment is exactly it is modelled as the same rule without the comment.
 */
export function modelTables(topo: Topology, saved: SavedTable[], ns: string | undefined, family: Family, owner?: string): void {
    const tables = owner === undefined ? saved : saved.map((x) => ({ ...x, rules: x.rules.map((l) => withoutComment(l, owner)) }));
    const tool = iptablesTool(family);
    const lines = (table: string, chain: string) => (tables.find((x) => x.table === table)?.rules ?? []).filter((l) => parseRuleLine(l)[1] === chain);
    const { forwards, taken } = findPortForwards({ PREROUTING: lines("nat", "PREROUTING"), OUTPUT: lines("nat", "OUTPUT"), POSTROUTING: lines("nat", "POSTROUTING") }, ns);
    topo.portForwards.push(...forwards);
    for (const { table, chains, rules } of tables) {
        const t_ = table === "filter" ? "" : `-t ${table} `;
        const userChains = chains.filter((c) => c.policy === "-").map((c) => c.chain);
        const note = (line: string, why: string) => notes.push(`${tool} rule in ${inNamespace(ns)}: ${t_}${line} (${why}); left out`);
        const notes: string[] = [];
        const found: [string, ScannedRule][] = [];
        // A user-defined chain is left out when another tool keeps it, or when a rule in it is: its delete would fail.
        const leftOut = new Map(userChains.filter((c) => FOREIGN_CHAIN.test(c)).map((c) => [c, "a chain another tool keeps (by its name)"]));
        for (const line of rules.filter((l) => !taken.has(l))) {
            const [, chain, ...args] = parseRuleLine(line);
            if (table === "nat" && chain === "POSTROUTING") {
                const m = parseMasquerade(line, ns);
                if (m) { topo.masquerades.push(m); continue; }
            }
            if (table === "filter" && chain === "FORWARD") {
                const f = parseForward(line, ns, family);
                if (f) { topo.forwards.push(f); continue; }
            }
            const r = leftOut.has(chain) ? `in chain ${chain}: ${leftOut.get(chain)}` : ruleProblem(args, table, chain, family);
            if (typeof r === "object") {
                found.push([line, { netns: ns, family, table: table as Table, chain, args: r.args }]);
                continue;
            }
            note(line, r);
            if (userChains.includes(chain) && !leftOut.has(chain)) leftOut.set(chain, `its rule ${line} is left out`);
        }
        for (const [line, r] of found) {
            const out = [r.chain, String(r.args.jump)].find((c) => leftOut.has(c));
            if (out) note(line, `chain ${out} is left out`);
            else topo.rules.push(r);
        }
        for (const c of userChains) {
            if (leftOut.has(c)) notes.unshift(`${tool} chain ${c} in ${inNamespace(ns)}${t_ ? ` (table ${table})` : ""}: ${leftOut.get(c)}; left out, with its rules`);
            else topo.chains.push({ netns: ns, family, table: table as Table, name: c });
        }
        topo.unmodelled.push(...notes);
        // Built-in chains' policies other than ACCEPT (a firewall's `-P FORWARD DROP`).
        for (const c of chains) {
            if (c.policy === "ACCEPT" || c.policy === "-") continue;
            const modelled = ((POLICY_CHAINS as Record<string, readonly string[]>)[table] ?? []).includes(c.chain) && c.policy === "DROP";
            if (modelled) topo.policies.push({ netns: ns, family, table, chain: c.chain, policy: c.policy });
            else topo.unmodelled.push(`${tool} policy in ${inNamespace(ns)}: -t ${table} -P ${c.chain} ${c.policy}, which a ChainPolicy does not make; left out`);
        }
    }
}

/** A listed line without `-m comment --comment COMMENT` (its other arguments quoted where needed, as {@link parseRuleLine} reads them back); the line itself when it carries no such comment. */
function withoutComment(line: string, comment: string): string {
    const args = parseRuleLine(line);
    const at = args.findIndex((a, i) => a === "-m" && args[i + 1] === "comment" && args[i + 2] === "--comment" && args[i + 3] === comment);
    if (at < 0) return line;
    return [...args.slice(0, at), ...args.slice(at + 4)].map((a) => (a === "" || /[\s"\\]/.test(a) ? `"${a.replace(/(["\\])/g, "\\$1")}"` : a)).join(" ");
}

/** Flags and their values in a listed rule, when it holds only flags from `allowed` (and no comment). */
function flags(args: string[], allowed: string[]): Map<string, string> | undefined {
    const found = new Map<string, string>();
    for (let i = 0; i < args.length; i += 2) {
        const flag = args[i] === "!" ? `! ${args[++i]}` : args[i];
        if (!allowed.includes(flag) || args[i + 1] === undefined) return undefined;
        found.set(flag, args[i + 1]);
    }
    return found;
}

/** A MasqueradeRule's inputs (but its namespace) from a `POSTROUTING` rule's arguments after `-A POSTROUTING`, in any order; undefined when no MasqueradeRule has these flags. */
export function masqueradeInputs(args: string[]): Omit<ScannedMasquerade, "netns"> | undefined {
    const f = flags(args, ["-s", "-d", "-o", "! -o", "-j"]);
    if (!f || f.get("-j") !== "MASQUERADE" || !f.get("-s")) return undefined;
    return { source: f.get("-s")!, destination: f.get("-d"), outInterface: f.get("-o"), excludeOutInterface: f.get("! -o") };
}

/** A ForwardRule's inputs (but its namespace and family) from a `FORWARD` rule's arguments after `-A FORWARD`, in any order; undefined when no ForwardRule has these flags. */
export function forwardInputs(args: string[]): Omit<ScannedForward, "netns" | "family"> | undefined {
    const established = args.join(" ").includes("-m conntrack --ctstate RELATED,ESTABLISHED");
    const rest = established ? args.join(" ").replace("-m conntrack --ctstate RELATED,ESTABLISHED", "").trim().split(/\s+/) : args;
    const f = flags(rest, ["-s", "-d", "-i", "-o", "-j"]);
    if (!f || f.get("-j") !== "ACCEPT") return undefined;
    return { source: f.get("-s"), destination: f.get("-d"), inInterface: f.get("-i"), outInterface: f.get("-o"), established };
}

/** A listed `-A POSTROUTING …` line as a MasqueradeRule, if it is exactly the rule one would make. */
function parseMasquerade(line: string, netns: string | undefined): ScannedMasquerade | undefined {
    const [, , ...args] = parseRuleLine(line);
    const found = masqueradeInputs(args);
    if (!found) return undefined;
    const m: ScannedMasquerade = { netns, ...found };
    return same(masqueradeRule({ ...m, owner: OWNER_PREFIX } as any).spec, args) ? m : undefined;
}

/** A listed `-A FORWARD …` line as a ForwardRule, if it is exactly the rule one would make. */
function parseForward(line: string, netns: string | undefined, family: Family): ScannedForward | undefined {
    const [, , ...args] = parseRuleLine(line);
    const found = forwardInputs(args);
    if (!found) return undefined;
    const r: ScannedForward = { netns, family, ...found };
    if (!r.source && !r.destination && !r.inInterface && !r.outInterface && !r.established) return undefined; // accept-all: no resource makes that
    return same(forwardRule({ ...r, owner: OWNER_PREFIX } as any).spec, args) ? r : undefined;
}


/** Chains other tools keep, by the names they give them (Docker, Kubernetes, CNI, libvirt, ufw, fail2ban, Calico, Flannel, Weave, Tailscale, Cilium). */
const FOREIGN_CHAIN = /^(DOCKER|KUBE-|CNI-|LIBVIRT_|ufw6?-|f2b-|cali-|FLANNEL|WEAVE|ts-|CILIUM|OPENSHIFT|ISTIO)/;

/**
 * A listed rule's arguments (after `-A CHAIN`) as an IptablesRule's inputs, or why none declares it: a
 * match or option no property makes, a comment of its own (a pulumi-netns owner's: a stack has it; another: another tool's).
 */
function ruleProblem(args: string[], table: string, chain: string, family: Family): string | { args: Record<string, unknown> } {
    const parsed = parseIptablesRule(args);
    if ("problem" in parsed) return parsed.problem;
    if (parsed.comment?.startsWith(OWNER_PREFIX)) return `already managed by pulumi-netns (${parsed.comment})`;
    if (parsed.comment !== undefined) return `it carries a comment of its own (${JSON.stringify(parsed.comment)}): another tool's rule?`;
    const a = IptablesRuleSchema.safeParse({ ...parsed.args, table, chain, family, owner: `${OWNER_PREFIX}${"0".repeat(16)}` });
    if (!a.success) return `not a rule an IptablesRule makes: ${a.error.issues.map((i) => `${i.path.join(".") || "rule"}: ${i.message}`).join("; ")}`;
    return { args: parsed.args };
}

/**
 * The port forwards among a namespace's nat rules (one family): each `PREROUTING` DNAT whose
 * `OUTPUT` twin is there too, and the hairpin MASQUERADE in `POSTROUTING` when there is one, taken
 * only when {@link portForwardRules} rebuilds exactly those rules; and the lines they take.
 */
function findPortForwards(nat: Record<string, string[]>, netns: string | undefined): { forwards: ScannedPortForward[]; taken: Set<string> } {
    const forwards: ScannedPortForward[] = [];
    const taken = new Set<string>();
    const bare = (line: string) => JSON.stringify(parseRuleLine(line));
    const lineOf = (chain: string, spec: string[]) => nat[chain].find((l) => !taken.has(l) && bare(l) === JSON.stringify(["-A", chain, ...spec]));
    for (const line of nat.PREROUTING) {
        const f = flags(parseRuleLine(line).slice(2), ["-d", "-p", "-m", "--dst-type", "--dport", "-j", "--to-destination"]);
        const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(f?.get("--to-destination") ?? "");
        if (!f || f.get("-j") !== "DNAT" || !m) continue;
        const base = { protocol: f.get("-p"), hostPort: Number(f.get("--dport")), hostAddress: f.get("-d")?.replace(/\/(32|128)$/, ""), toPort: Number(m[2]) === Number(f.get("--dport")) ? undefined : Number(m[2]) };
        // The hairpin's LAN, from each candidate MASQUERADE's source; without one, none.
        const lans = nat.POSTROUTING.map((l) => /^-A POSTROUTING -s \S+\/(\d+) /.exec(l)?.[1]).filter((x): x is string => x !== undefined);
        for (const toAddress of [...new Set(lans)].map((len) => `${m[1]}/${len}`).concat(m[1])) {
            const a = PortForwardSchema.safeParse(stripUndefined({ ...base, toAddress, netns, owner: `${OWNER_PREFIX}${"0".repeat(16)}` }));
            if (!a.success) continue;
            const lines = portForwardRules(a.data).map((r) => lineOf(r.chain, r.spec));
            if (lines[0] !== line || lines.some((l) => l === undefined)) continue;
            for (const l of lines) taken.add(l!);
            forwards.push(stripUndefined({ netns, protocol: a.data.protocol, hostPort: a.data.hostPort, hostAddress: a.data.hostAddress, toAddress: a.data.toAddress, toPort: a.data.toPort }) as ScannedPortForward);
            break;
        }
    }
    return { forwards, taken };
}
