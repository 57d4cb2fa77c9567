/**
 * iptables system calls. Every call passes `-w` (wait for the xtables lock), IPv6 rules go
 * through `ip6tables`, and a rule in a named namespace runs as `ip netns exec NS iptables ...`
 * (iptables has no namespace option). pulumi-netns marks each of its rules with
 * `-m comment --comment <owner token>` and only ever deletes rules carrying its own token.
 */
import { parsePrefix } from "../core/ip";
import { CommandError, RunResult } from "./exec";
import type { Target } from "./target";
import { same } from "../core/diff";

export type Family = 4 | 6;
export type Table = "filter" | "nat" | "mangle" | "raw";

/** One rule: where it lives, its match and target arguments, and the owner token it carries as a comment. */
export interface Rule {
    family: Family;
    table: Table;
    chain: string;
    /** Match and target arguments, e.g. `["-s", "10.0.0.0/8", "-j", "MASQUERADE"]` (no comment: see {@link ruleArgs}). */
    spec: string[];
    comment: string;
    netns?: string;
    /**
     * How a listed rule's arguments (after `-A CHAIN`, owner comment taken out) are compared with this
     * one, when not argument by argument: for a rule whose matches a script may have written in
     * another order, or in another spelling of the same value (see resources/iptables-rule.ts).
     */
    same?: (args: string[]) => boolean;
}

/** Where a new rule goes: appended at the end of the chain, or inserted as its first rule. */
export type Placement = "append" | "insert";

/** The iptables implementation behind the `iptables` binary. */
export type IptablesVariant = "nf_tables" | "legacy";

/** A failed iptables command: a {@link CommandError} whose message also names the iptables variant used. */
export class IptablesError extends CommandError {
    readonly variant: IptablesVariant | undefined;

    constructor(err: CommandError, variant: IptablesVariant | undefined) {
        super(err.command, err.exitCode, err.stdout, err.stderr, err);
        this.name = "IptablesError";
        this.variant = variant;
        this.message = `${this.message} (iptables variant: ${variant ?? "unknown"})`;
    }
}

/** The command of a family: `iptables`, or `ip6tables` for IPv6. */
export function iptablesTool(family: Family): "iptables" | "ip6tables" {
    return family === 6 ? "ip6tables" : "iptables";
}

/** stderr of `ip netns exec` when the namespace does not exist. */
const NETNS_GONE = /Cannot open network namespace/;
/** stderr of `-C`/`-D` when no such rule exists. */
const NO_RULE = /Bad rule|does a matching rule exist|No chain\/target\/match by that name/;

/** The argv prefix that runs (ip6)tables in the given family and namespace: `[ip netns exec NS] iptables -w`. */
function iptablesIn(family: Family, netns: string | undefined): string[] {
    return [...(netns ? ["ip", "netns", "exec", netns] : []), iptablesTool(family), "-w"];
}

/** The rule's arguments after the chain name: its matches, `-m comment --comment TOKEN`, then its target. */
export function ruleArgs(rule: Rule): string[] {
    const j = rule.spec.lastIndexOf("-j");
    const [matches, target] = j < 0 ? [rule.spec, []] : [rule.spec.slice(0, j), rule.spec.slice(j)];
    return [...matches, "-m", "comment", "--comment", rule.comment, ...target];
}

/** The rule as `iptables -S` prints it, e.g. `-A POSTROUTING -s 10.0.0.0/8 -m comment --comment "pulumi-netns:…" -j MASQUERADE`. */
export function formatRule(rule: Rule): string {
    // Like iptables' xtables_save_string: a comment (and a log prefix) is quoted unless it is only letters, digits, '_' and '-'.
    const quote = (a: string) => (/^[\w-]+$/.test(a) ? a : `"${a.replace(/(["\\])/g, "\\$1")}"`);
    return ["-A", rule.chain, ...ruleArgs(rule)].map((a, i, all) => (["--comment", "--log-prefix"].includes(all[i - 1]) ? quote(a) : a)).join(" ");
}

/** Splits a line of `iptables -S` into arguments, undoing its double quotes and backslash escapes. */
export function parseRuleLine(line: string): string[] {
    const args: string[] = [];
    let cur: string | undefined;
    let quoted = false;
    for (let i = 0; i < line.length; i++) {
        const c = line[i];
        if (quoted) {
            if (c === "\\" && i + 1 < line.length) cur += line[++i];
            else if (c === '"') quoted = false;
            else cur += c;
        } else if (c === '"') {
            quoted = true;
            cur ??= "";
        } else if (/\s/.test(c)) {
            if (cur !== undefined) args.push(cur);
            cur = undefined;
        } else {
            cur = (cur ?? "") + c;
        }
    }
    if (cur !== undefined) args.push(cur);
    return args;
}

/** A listed line's arguments after `-A CHAIN` with the comment `comment` taken out; undefined when it does not carry it. */
function withoutComment(args: string[], comment: string): string[] | undefined {
    const at = args.findIndex((a, i) => a === "-m" && args[i + 1] === "comment" && args[i + 2] === "--comment" && args[i + 3] === comment);
    return at < 0 ? undefined : [...args.slice(0, at), ...args.slice(at + 4)];
}

/** True when a listed line (`-A CHAIN ...`) is this rule with its comment, comparing arguments rather than quoting (or as `rule.same` says). */
export function isSameRule(line: string, rule: Rule): boolean {
    const args = parseRuleLine(line);
    if (args[0] !== "-A" || args[1] !== rule.chain) return false;
    if (!rule.same) return same(args, ["-A", rule.chain, ...ruleArgs(rule)]);
    const rest = withoutComment(args.slice(2), rule.comment);
    return rest !== undefined && rule.same(rest);
}

/** True when a listed line is this rule without any comment (as a script wrote it; `rule.same` refuses a rule that carries one). */
function isBareRule(line: string, rule: Rule): boolean {
    const args = parseRuleLine(line);
    if (args[0] !== "-A" || args[1] !== rule.chain) return false;
    return rule.same ? rule.same(args.slice(2)) : same(args.slice(2), rule.spec);
}

/** True when a listed line carries this comment (`-m comment --comment TOKEN`). */
function hasComment(line: string, comment: string): boolean {
    const args = parseRuleLine(line);
    return args.some((a, i) => a === "--comment" && args[i + 1] === comment);
}

/**
 * The variant behind the `iptables` (or `ip6tables`) binary, from its version line
 * (`iptables v1.8.9 (nf_tables)`); undefined when it cannot be told. Equivalent to: `iptables -V`.
 */
export async function iptablesVariant(t: Target, family: Family = 4): Promise<IptablesVariant | undefined> {
    const r = await t.tryRun([iptablesTool(family), "-V"]).catch(() => undefined);
    const m = /\((nf_tables|legacy)\)/.exec(r?.stdout ?? "");
    return m ? (m[1] as IptablesVariant) : undefined;
}

/** Runs an iptables argv; a failure becomes an {@link IptablesError} naming the variant. */
async function runIptables(t: Target, family: Family, argv: string[], accept?: (r: RunResult) => boolean): Promise<RunResult> {
    const r = await t.tryRun(argv);
    if (r.exitCode === 0 || accept?.(r)) return r;
    throw new IptablesError(new CommandError(r.command, r.exitCode, r.stdout, r.stderr), await iptablesVariant(t, family));
}

/**
 * True when exactly this rule (comment included) is in its chain.
 * Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -C CHAIN SPEC -m comment --comment TOKEN TARGET`.
 */
export async function ruleExists(t: Target, rule: Rule): Promise<boolean> {
    const argv = [...iptablesIn(rule.family, rule.netns), "-t", rule.table, "-C", rule.chain, ...ruleArgs(rule)];
    const r = await runIptables(t, rule.family, argv, (r) => r.exitCode === 1 && NO_RULE.test(r.stderr));
    return r.exitCode === 0;
}

/** Appends a rule at the end of its chain. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -A CHAIN ARGS`. */
export async function appendRule(t: Target, rule: Rule): Promise<void> {
    await runIptables(t, rule.family, [...iptablesIn(rule.family, rule.netns), "-t", rule.table, "-A", rule.chain, ...ruleArgs(rule)]);
}

/** Inserts a rule as the first of its chain. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -I CHAIN 1 ARGS`. */
export async function insertRule(t: Target, rule: Rule): Promise<void> {
    await runIptables(t, rule.family, [...iptablesIn(rule.family, rule.netns), "-t", rule.table, "-I", rule.chain, "1", ...ruleArgs(rule)]);
}

/**
 * Deletes one rule given by its arguments (as built by {@link ruleArgs} or listed by {@link listRules});
 * a rule, or namespace, already gone is success. Returns whether a rule was deleted.
 * Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -D CHAIN ARGS`.
 */
export async function deleteRuleArgs(t: Target, family: Family, table: Table, chain: string, args: string[], netns?: string): Promise<boolean> {
    const argv = [...iptablesIn(family, netns), "-t", table, "-D", chain, ...args];
    const r = await runIptables(t, family, argv, (r) => (r.exitCode === 1 && NO_RULE.test(r.stderr)) || NETNS_GONE.test(r.stderr));
    return r.exitCode === 0;
}

/** Deletes exactly this rule; one already gone is success. Equivalent to: `iptables -w -t TABLE -D CHAIN ARGS`. */
export async function deleteRule(t: Target, rule: Rule): Promise<boolean> {
    return deleteRuleArgs(t, rule.family, rule.table, rule.chain, ruleArgs(rule), rule.netns);
}

/**
 * The rules of one chain as `iptables -S` prints them (`-A CHAIN ...` lines only, policy left
 * out); undefined when the namespace does not exist. Equivalent to:
 * `[ip netns exec NS] iptables -w -t TABLE -S CHAIN`.
 */
export async function listRules(t: Target, table: Table, chain: string, family: Family, netns?: string): Promise<string[] | undefined> {
    const argv = [...iptablesIn(family, netns), "-t", table, "-S", chain];
    const r = await t.tryRun(argv);
    if (r.exitCode === 0) return r.stdout.split("\n").filter((l) => l.startsWith("-A "));
    if (NETNS_GONE.test(r.stderr)) return undefined;
    // A user-defined chain that is gone (deleted by hand) holds no rules; iptables-nft words that oddly ("incompatible").
    if (r.exitCode === 1 && !(await listTable(t, family, table, netns))?.chains.includes(chain)) return [];
    throw new IptablesError(new CommandError(r.command, r.exitCode, r.stdout, r.stderr), await iptablesVariant(t, family));
}

/**
 * The listed rules of a chain that carry this comment; undefined when the namespace does not
 * exist. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -S CHAIN`, filtered.
 */
export async function findRulesByComment(
    t: Target, table: Table, chain: string, family: Family, comment: string, netns?: string,
): Promise<string[] | undefined> {
    return (await listRules(t, table, chain, family, netns))?.filter((l) => hasComment(l, comment));
}

/** A built-in chain's policy (what a packet that reaches the chain's end gets). */
export type Policy = "ACCEPT" | "DROP";

/**
 * The tables whose built-in chains take a policy of DROP, and those chains (the nat table's refuse
 * DROP: `The "nat" table is not intended for filtering`).
 */
export const POLICY_CHAINS = {
    filter: ["INPUT", "FORWARD", "OUTPUT"],
    mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    raw: ["PREROUTING", "OUTPUT"],
    security: ["INPUT", "FORWARD", "OUTPUT"],
} as const;
export type PolicyTable = keyof typeof POLICY_CHAINS;

/** Sets a built-in chain's policy. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -P CHAIN POLICY`. */
export async function setChainPolicy(t: Target, family: Family, table: PolicyTable, chain: string, policy: Policy, netns?: string): Promise<void> {
    await runIptables(t, family, [...iptablesIn(family, netns), "-t", table, "-P", chain, policy]);
}

/**
 * A built-in chain's policy, from the `-P CHAIN POLICY` line of its listing; undefined when the
 * namespace does not exist. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -S CHAIN`.
 */
export async function getChainPolicy(t: Target, family: Family, table: PolicyTable, chain: string, netns?: string): Promise<string | undefined> {
    const r = await runIptables(t, family, [...iptablesIn(family, netns), "-t", table, "-S", chain], (r) => NETNS_GONE.test(r.stderr));
    if (r.exitCode !== 0) return undefined;
    const line = r.stdout.split("\n").find((l) => l.startsWith(`-P ${chain} `));
    if (!line) throw new Error(`${iptablesTool(family)} -t ${table} -S ${chain} listed no policy for ${chain}: ${JSON.stringify(r.stdout)}`);
    return line.split(" ")[2];
}

/** One table as `iptables-save` prints it: its chains (a user-defined chain's policy is `-`) and its rules, in order. */
export interface SavedTable {
    table: string;
    chains: { chain: string; policy: string }[];
    /** `-A CHAIN ...` lines, as `iptables -S` prints them. */
    rules: string[];
}

/**
 * Every table that exists, one family, with its chains and rules; [] when the namespace does not exist.
 * Equivalent to: `[ip netns exec NS] iptables-save` (`ip6tables-save` for family 6).
 */
export async function saveTables(t: Target, family: Family, netns?: string): Promise<SavedTable[]> {
    const argv = [...(netns ? ["ip", "netns", "exec", netns] : []), family === 6 ? "ip6tables-save" : "iptables-save"];
    const r = await runIptables(t, family, argv, (r) => NETNS_GONE.test(r.stderr));
    return r.exitCode === 0 ? parseSave(r.stdout) : [];
}

/** The tables of an `iptables-save` listing, with their chains and rules. */
export function parseSave(text: string): SavedTable[] {
    const tables: SavedTable[] = [];
    for (const line of text.split("\n")) {
        if (line.startsWith("*")) tables.push({ table: line.slice(1).trim(), chains: [], rules: [] });
        const m = /^:(\S+) (\S+)/.exec(line);
        if (m && tables.length) tables[tables.length - 1].chains.push({ chain: m[1], policy: m[2] });
        if (line.startsWith("-A ") && tables.length) tables[tables.length - 1].rules.push(line);
    }
    return tables;
}

/** `-s NET` / `-d NET`; nothing for an absent or /0 network, which iptables leaves out of its listing too. */
export function networkMatch(flag: "-s" | "-d", network: string | undefined): string[] {
    return network === undefined || parsePrefix(network)?.length === 0 ? [] : [flag, network];
}

// The lifecycle shared by the rule resources (MasqueradeRule, ForwardRule).

/** Adds the rule unless exactly it is already there (adopting a rule left by an interrupted create). */
export async function ensureRule(t: Target, rule: Rule, placement: Placement): Promise<void> {
    // With `same`, the rule may be there in a script's order (adopted): found by its comment, not by `-C`.
    const there = rule.same
        ? (await findRulesByComment(t, rule.table, rule.chain, rule.family, rule.comment, rule.netns))?.some((l) => isSameRule(l, rule))
        : await ruleExists(t, rule);
    if (there) return;
    await (placement === "insert" ? insertRule(t, rule) : appendRule(t, rule));
}

/**
 * Takes over the rule with exactly `rule`'s arguments but no comment (made by hand or a script),
 * without a moment when neither is there: the commented copy goes in its place, then the original
 * goes. False (nothing done) when there is no such rule. Equivalent to: `iptables -w -t TABLE -S CHAIN`,
 * `iptables -w -t TABLE -I CHAIN N ARGS -m comment --comment TOKEN …`, `iptables -w -t TABLE -D CHAIN ARGS`.
 */
export async function adoptRule(t: Target, rule: Rule): Promise<boolean> {
    const lines = (await listRules(t, rule.table, rule.chain, rule.family, rule.netns)) ?? [];
    const at = lines.findIndex((l) => isBareRule(l, rule));
    if (at < 0) return false;
    // The script's own arguments, in its order, with the comment added: the kernel differs by the comment alone.
    const found = parseRuleLine(lines[at]).slice(2);
    await runIptables(t, rule.family, [...iptablesIn(rule.family, rule.netns), "-t", rule.table, "-I", rule.chain, String(at + 1), ...ruleArgs({ ...rule, spec: found })]);
    await deleteRuleArgs(t, rule.family, rule.table, rule.chain, found, rule.netns);
    return true;
}

/**
 * The rule carrying `rule.comment` as the kernel lists it (exactly `rule` when present, else the first
 * rule with the comment, i.e. one altered by hand); undefined when there is none or the namespace is gone.
 * One `iptables -S CHAIN` call.
 */
export async function readOwnedRule(t: Target, rule: Rule): Promise<string | undefined> {
    const lines = await findRulesByComment(t, rule.table, rule.chain, rule.family, rule.comment, rule.netns);
    return lines?.find((l) => isSameRule(l, rule)) ?? lines?.[0];
}

/**
 * Deletes every rule of the chain carrying `rule.comment` (by its listed arguments, so a rule
 * altered by hand goes too), except one exactly equal to `keep`. Never touches rules without
 * the comment; nothing to delete (or no namespace) is success.
 */
export async function removeOwnedRules(t: Target, rule: Rule, keep?: Rule): Promise<void> {
    const lines = await findRulesByComment(t, rule.table, rule.chain, rule.family, rule.comment, rule.netns);
    const kept = (line: string) =>
        keep !== undefined && keep.family === rule.family && keep.table === rule.table && keep.netns === rule.netns && isSameRule(line, keep);
    for (const line of lines ?? []) {
        if (!kept(line)) await deleteRuleArgs(t, rule.family, rule.table, rule.chain, parseRuleLine(line).slice(2), rule.netns);
    }
}

// User-defined chains.

/** A table as `iptables -S` lists it: its user-defined chains (`-N` lines) and its rules (`-A` lines), in order. */
export interface ListedTable {
    chains: string[];
    rules: string[];
}

/**
 * One table's user-defined chains and rules, from one listing; undefined when the namespace does not
 * exist. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -S`.
 */
export async function listTable(t: Target, family: Family, table: Table, netns?: string): Promise<ListedTable | undefined> {
    const r = await runIptables(t, family, [...iptablesIn(family, netns), "-t", table, "-S"], (r) => NETNS_GONE.test(r.stderr));
    if (r.exitCode !== 0) return undefined;
    const lines = r.stdout.split("\n");
    return { chains: lines.filter((l) => l.startsWith("-N ")).map((l) => parseRuleLine(l)[1]), rules: lines.filter((l) => l.startsWith("-A ")) };
}

/** The listed rules that are in `chain` or jump (or go) to it. */
export function rulesUsing(rules: string[], chain: string): string[] {
    return rules.filter((l) => {
        const args = parseRuleLine(l);
        return args[1] === chain || args.some((a, i) => (a === "-j" || a === "-g") && args[i + 1] === chain);
    });
}

/** Makes a user-defined chain. Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -N CHAIN`. */
export async function newChain(t: Target, family: Family, table: Table, chain: string, netns?: string): Promise<void> {
    await runIptables(t, family, [...iptablesIn(family, netns), "-t", table, "-N", chain]);
}

/**
 * Deletes a user-defined chain, which must be empty with no rule jumping to it (the kernel refuses
 * otherwise: `Device or resource busy`). Equivalent to: `[ip netns exec NS] iptables -w -t TABLE -X CHAIN`.
 */
export async function deleteChain(t: Target, family: Family, table: Table, chain: string, netns?: string): Promise<void> {
    await runIptables(t, family, [...iptablesIn(family, netns), "-t", table, "-X", chain]);
}

