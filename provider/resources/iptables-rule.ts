import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { addressProblem, canonicalPrefix, parsePrefix } from "../core/ip";
import { checkFamilies, IfName, inputKeys, NetnsName, networkProblem, Owner, TargetFields } from "../core/schema";
import { registration, type ResourceOutputs, TargetArgs } from "../core/resource";
import { RuleOutputFields, ruleResourceProvider } from "../core/rule-provider";
import { Family, Rule, Table } from "../linux/iptables";
import { same } from "../core/diff";

/** The built-in chains of each table. */
export const BUILTIN_CHAINS: Record<Table, readonly string[]> = {
    filter: ["INPUT", "FORWARD", "OUTPUT"],
    nat: ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"],
    mangle: ["PREROUTING", "INPUT", "FORWARD", "OUTPUT", "POSTROUTING"],
    raw: ["PREROUTING", "OUTPUT"],
};
const TABLES = Object.keys(BUILTIN_CHAINS) as Table[];
const ALL_BUILTIN = [...new Set(Object.values(BUILTIN_CHAINS).flat())];

/** The targets an {@link IptablesRule} jumps to besides a user-defined chain, and the options each takes. */
export const TARGETS = ["ACCEPT", "DROP", "RETURN", "REJECT", "LOG", "MASQUERADE", "SNAT", "DNAT", "REDIRECT"] as const;
const TARGET_OPTIONS = { toDestination: ["DNAT"], toSource: ["SNAT"], toPorts: ["REDIRECT", "MASQUERADE"], rejectWith: ["REJECT"], logPrefix: ["LOG"] } as const;

/** Protocols by the name `iptables -S` prints (`icmpv6` is taken for `ipv6-icmp`); the first four have ports. */
const PROTOCOLS = ["tcp", "udp", "sctp", "dccp", "udplite", "icmp", "ipv6-icmp", "gre", "esp", "ah"] as const;
const PORTED = ["tcp", "udp", "sctp", "dccp"];

/** Connection states, in the order iptables lists them. */
const STATES = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED", "SNAT", "DNAT"] as const;
/** The states `-m state` knows. */
const OLD_STATES = ["INVALID", "NEW", "RELATED", "ESTABLISHED", "UNTRACKED"] as const;

const REJECT_WITH: Record<Family, readonly string[]> = {
    4: ["icmp-port-unreachable", "icmp-net-unreachable", "icmp-host-unreachable", "icmp-proto-unreachable", "icmp-net-prohibited", "icmp-host-prohibited", "icmp-admin-prohibited", "tcp-reset"],
    6: ["icmp6-port-unreachable", "icmp6-no-route", "icmp6-adm-prohibited", "icmp6-addr-unreachable", "tcp-reset"],
};

/** ICMP type names iptables takes, as the numbers (`type` or `type/code`) it lists them by. */
const ICMP_TYPES: Record<Family, Record<string, string>> = {
    4: {
        "echo-reply": "0", "destination-unreachable": "3", "network-unreachable": "3/0", "host-unreachable": "3/1", "protocol-unreachable": "3/2",
        "port-unreachable": "3/3", "fragmentation-needed": "3/4", "source-quench": "4", redirect: "5", "echo-request": "8", "router-advertisement": "9",
        "router-solicitation": "10", "time-exceeded": "11", "parameter-problem": "12", "timestamp-request": "13", "timestamp-reply": "14",
    },
    6: {
        "destination-unreachable": "1", "no-route": "1/0", "communication-prohibited": "1/1", "address-unreachable": "1/3", "port-unreachable": "1/4",
        "packet-too-big": "2", "time-exceeded": "3", "parameter-problem": "4", "echo-request": "128", "echo-reply": "129", "router-solicitation": "133",
        "router-advertisement": "134", "neighbour-solicitation": "135", "neighbor-solicitation": "135", "neighbour-advertisement": "136", "neighbor-advertisement": "136", redirect: "137",
    },
};

/** TCP flags, in the order iptables lists them. */
const TCP_FLAGS = ["FIN", "SYN", "RST", "PSH", "ACK", "URG"] as const;

/** Matches that `invert` can negate (`! -s …`). */
const INVERTIBLE = ["source", "destination", "inInterface", "outInterface", "protocol", "sourcePort", "destinationPort", "tcpFlags"] as const;

/** A chain's name as iptables takes it: 1–28 characters, no leading '-' or '!', no whitespace or shell characters. */
export const ChainName = z
    .string({ error: 'must be a chain\'s name, e.g. "FORWARD" or "MY-CHAIN"' })
    .min(1, "must not be empty")
    .max(28, "must be at most 28 characters (iptables' limit for a chain's name)")
    .refine((s) => /^[A-Za-z0-9_.+][A-Za-z0-9_.+-]*$/.test(s), "may contain only ASCII letters, digits and . _ + - (not first), e.g. \"MY-CHAIN\"");

/** An address or network as `-s`/`-d` take it: a bare address is the host's own (`/32`, `/128`), as iptables lists it. */
const Match = z
    .string({ error: "must be an address or a network, e.g. 10.1.0.0/16 or 192.0.2.1" })
    .transform((s) => (s.includes("/") ? s : `${s}/${s.includes(":") ? 128 : 32}`))
    .superRefine((s, ctx) => {
        const why = networkProblem(s);
        if (why) ctx.addIssue({ code: "custom", message: why });
    })
    .transform(canonicalPrefix);

const PortNumber = z.number({ error: "must be a port (1–65535) or a range \"1000:2000\"" }).int("must be a whole number").min(1, "must be 1–65535").max(65535, "must be 1–65535");
/** A port or a range of ports, as iptables lists them: `22`, `"1000:2000"`. */
const PortMatch = z.union([PortNumber, z.string().regex(/^\d+:\d+$/, 'must be a port (1–65535) or a range "1000:2000"')], { error: 'must be a port (1–65535) or a range "1000:2000"' })
    .superRefine((p, ctx) => {
        if (typeof p === "number") return;
        const [lo, hi] = p.split(":").map(Number);
        if (!(lo >= 1 && hi <= 65535 && lo < hi)) ctx.addIssue({ code: "custom", message: `${p}: a range is "LOW:HIGH" with 1 ≤ LOW < HIGH ≤ 65535` });
    });
/** Ports a NAT target maps to: `8080` or `"8000-8010"`, as iptables lists them. */
const ToPorts = z.union([PortNumber, z.string().regex(/^\d+-\d+$/, 'must be a port (1–65535) or a range "8000-8010"')], { error: 'must be a port (1–65535) or a range "8000-8010"' });

/** A NAT target's address and port (or range), split: `192.0.2.1:80`, `[fd00::1]:8080`, `fd00::1`; undefined when malformed. */
function splitNat(s: string): { address: string; port?: string } | undefined {
    const m = s.startsWith("[") ? /^\[([^\]]+)\](?::(\d+(?:-\d+)?))?$/.exec(s) : (s.match(/:/g) ?? []).length > 1 ? [s, s] : /^([^:]+)(?::(\d+(?:-\d+)?))?$/.exec(s);
    return m ? { address: m[1], ...(m[2] ? { port: m[2] } : {}) } : undefined;
}

/** A NAT target's address, with an optional port or port range, as iptables lists it: `192.0.2.1`, `192.0.2.1:80`, `[fd00::1]:8080`. */
const NatAddress = z
    .string({ error: 'must be an address, optionally with a port: "192.0.2.1:80" or "[fd00::1]:8080"' })
    .superRefine((s, ctx) => {
        const nat = splitNat(s);
        const why = nat === undefined ? "malformed" : addressProblem(nat.address, false) ?? (nat.port?.split("-").some((p) => !(Number(p) >= 1 && Number(p) <= 65535)) ? "a port must be 1–65535" : undefined);
        if (why) ctx.addIssue({ code: "custom", message: `must be an address, optionally with a port: "192.0.2.1:80" or "[fd00::1]:8080" (${s}: ${why}); an address range is not taken` });
    })
    .transform((s) => {
        const { address, port } = splitNat(s)!;
        const a = canonicalPrefix(address);
        return port === undefined ? a : a.includes(":") ? `[${a}]:${port}` : `${a}:${port}`;
    });

const addressOf = (nat: string) => splitNat(nat)!.address;

/** Inputs of an {@link IptablesRule}, validated and normalised (addresses and networks as iptables lists them). */
export const IptablesRuleSchema = z
    .object({
        table: z.enum(TABLES as [Table, ...Table[]], { error: `must be one of ${TABLES.join(", ")}` }).default("filter"),
        chain: ChainName,
        family: z.union([z.literal(4), z.literal(6)], { error: "must be 4 (iptables) or 6 (ip6tables)" }).optional(),
        placement: z.enum(["append", "insert"], { error: 'must be "append" (the end of the chain, -A) or "insert" (its first rule, -I CHAIN 1)' }).default("append"),
        source: Match.optional(),
        destination: Match.optional(),
        inInterface: IfName.optional(),
        outInterface: IfName.optional(),
        protocol: z
            .string({ error: `must be a protocol's name: ${PROTOCOLS.join(", ")}` })
            .transform((s) => (s.toLowerCase() === "icmpv6" ? "ipv6-icmp" : s.toLowerCase()))
            .refine((s) => (PROTOCOLS as readonly string[]).includes(s), { error: (i) => (i.input === "all" ? "leave protocol out to match every protocol" : `must be one of ${PROTOCOLS.join(", ")} (icmpv6 for ipv6-icmp)`) })
            .optional(),
        sourcePort: PortMatch.optional(),
        destinationPort: PortMatch.optional(),
        tcpFlags: z
            .object({
                mask: z.array(z.enum([...TCP_FLAGS, "ALL"], { error: `must be one of ${TCP_FLAGS.join(", ")} or ALL` })).min(1, "must name at least one flag"),
                set: z.array(z.enum([...TCP_FLAGS, "ALL", "NONE"], { error: `must be one of ${TCP_FLAGS.join(", ")}, ALL or NONE` })),
            }, { error: 'must be { mask, set }, e.g. { mask: ["FIN", "SYN", "RST", "ACK"], set: ["SYN"] } (iptables --syn)' })
            .strict()
            .optional(),
        icmpType: z.union([z.number().int().min(0).max(255), z.string()], { error: 'must be an ICMP type: a number, "TYPE/CODE", "any" or a name such as "echo-request"' }).optional(),
        ctstate: z.array(z.enum(STATES, { error: `must be one of ${STATES.join(", ")}` })).min(1, "must list at least one state").optional(),
        state: z.array(z.enum(OLD_STATES, { error: `must be one of ${OLD_STATES.join(", ")}` })).min(1, "must list at least one state").optional(),
        invert: z.array(z.enum(INVERTIBLE, { error: `may name only ${INVERTIBLE.join(", ")}` })).optional(),
        jump: z.string({ error: `must be a target (${TARGETS.join(", ")}) or a user-defined chain's name` }),
        toDestination: NatAddress.optional(),
        toSource: NatAddress.optional(),
        toPorts: ToPorts.optional(),
        rejectWith: z.string().optional(),
        logPrefix: z.string().max(29, "must be at most 29 characters (the kernel's limit)").refine((s) => !/[\n\r"\\]/.test(s), "must not contain a newline, quote or backslash").optional(),
        netns: NetnsName.optional(),
        owner: Owner,
        ...TargetFields,
    })
    .strict()
    .superRefine((a, ctx) => {
        const issue = (path: string, message: string) => ctx.addIssue({ code: "custom", path: path ? [path] : [], message });
        const builtin = BUILTIN_CHAINS[a.table].includes(a.chain);
        // The chain: a built-in one of this table, or a user-defined one (never another table's built-in name).
        if (!builtin && ALL_BUILTIN.includes(a.chain.toUpperCase())) {
            const tables = TABLES.filter((t) => BUILTIN_CHAINS[t].includes(a.chain.toUpperCase()));
            issue("chain", ALL_BUILTIN.includes(a.chain)
                ? `the ${a.table} table has no chain ${a.chain} (${BUILTIN_CHAINS[a.table].join(", ")}): it is built into ${tables.join(", ")}; set table`
                : `${JSON.stringify(a.chain)}: did you mean ${JSON.stringify(a.chain.toUpperCase())}? (built-in chains are upper case)`);
        }
        // The target.
        const target = (TARGETS as readonly string[]).includes(a.jump) ? a.jump : undefined;
        const jumpName = ChainName.safeParse(a.jump);
        if (!target) {
            if ((TARGETS as readonly string[]).includes(a.jump.toUpperCase())) issue("jump", `${JSON.stringify(a.jump)}: did you mean ${JSON.stringify(a.jump.toUpperCase())}? (targets are upper case)`);
            else if (ALL_BUILTIN.includes(a.jump)) issue("jump", `cannot jump to the built-in chain ${a.jump}: jump to a target (${TARGETS.join(", ")}) or a user-defined chain`);
            else if (!jumpName.success) issue("jump", `must be a target (${TARGETS.join(", ")}) or a user-defined chain's name: ${jumpName.error.issues[0].message}`);
        }
        const natTarget = { DNAT: ["PREROUTING", "OUTPUT"], REDIRECT: ["PREROUTING", "OUTPUT"], SNAT: ["POSTROUTING", "INPUT"], MASQUERADE: ["POSTROUTING"] }[a.jump];
        if (natTarget && (a.table !== "nat" || (builtin && !natTarget.includes(a.chain)))) {
            issue("jump", `${a.jump} works only in the nat table's ${natTarget.join(" or ")} chain (or a user-defined chain of the nat table jumped to from there), not in ${a.table} ${a.chain}`);
        }
        if ((a.jump === "DROP" || a.jump === "REJECT") && a.table === "nat") issue("jump", `the nat table is not for filtering (iptables refuses ${a.jump} there): filter in the filter table`);
        if (a.jump === "REJECT" && builtin && !["INPUT", "FORWARD", "OUTPUT"].includes(a.chain)) issue("jump", `REJECT works only in INPUT, FORWARD and OUTPUT (and user-defined chains jumped to from them), not in ${a.chain}`);
        for (const [key, targets] of Object.entries(TARGET_OPTIONS) as [keyof typeof TARGET_OPTIONS, readonly string[]][]) {
            if (a[key] !== undefined && !targets.includes(a.jump)) issue(key, `applies only to jump ${targets.join(" or ")}, not ${a.jump}`);
        }
        if (a.jump === "DNAT" && a.toDestination === undefined) issue("toDestination", 'DNAT needs toDestination, e.g. "192.0.2.1:80"');
        if (a.jump === "SNAT" && a.toSource === undefined) issue("toSource", 'SNAT needs toSource, e.g. "198.51.100.1"');
        // Directions: a built-in chain sees packets arriving (PREROUTING, INPUT) or leaving (OUTPUT, POSTROUTING), or both (FORWARD).
        if (builtin && a.inInterface !== undefined && ["OUTPUT", "POSTROUTING"].includes(a.chain)) issue("inInterface", `${a.chain} sees packets leaving: there is no input interface to match (use outInterface)`);
        if (builtin && a.outInterface !== undefined && ["PREROUTING", "INPUT"].includes(a.chain)) issue("outInterface", `${a.chain} sees packets arriving: there is no output interface to match (use inInterface)`);
        // The family: of the addresses, the ICMP protocol, which must agree with each other and with family.
        checkFamilies(ctx, familyHints(a), a.family);
        const family = familyOf(a);
        // Matches that need a protocol.
        for (const k of ["sourcePort", "destinationPort"] as const) {
            if (a[k] !== undefined && !PORTED.includes(a.protocol ?? "")) issue(k, `a port needs protocol ${PORTED.join(", ")}`);
        }
        if (a.tcpFlags !== undefined && a.protocol !== "tcp") issue("tcpFlags", 'needs protocol "tcp"');
        if (a.tcpFlags && !flagList(a.tcpFlags.set).every((f) => flagList(a.tcpFlags!.mask).includes(f))) issue("tcpFlags", "set names a flag that mask does not: only flags in mask are compared");
        if (a.toPorts !== undefined && !PORTED.includes(a.protocol ?? "")) issue("toPorts", `needs protocol ${PORTED.join(", ")} (iptables: "Need TCP, UDP, SCTP or DCCP with port specification")`);
        if (a.icmpType !== undefined) {
            const icmp = family === 6 ? "ipv6-icmp" : "icmp";
            if (a.protocol !== icmp) issue("icmpType", `needs protocol ${JSON.stringify(family === 6 ? "icmpv6" : "icmp")}`);
            else if (icmpCode(a.icmpType, family) === undefined) issue("icmpType", `${JSON.stringify(a.icmpType)} is not an ICMP${family === 6 ? "v6" : ""} type: a number 0–255, "TYPE/CODE", "any" or one of ${Object.keys(ICMP_TYPES[family]).join(", ")}`);
        }
        if (a.rejectWith !== undefined && !REJECT_WITH[family].includes(a.rejectWith)) issue("rejectWith", `must be one of ${REJECT_WITH[family].join(", ")} (IPv${family})`);
        if (a.rejectWith === "tcp-reset" && a.protocol !== "tcp") issue("rejectWith", 'tcp-reset needs protocol "tcp"');
        for (const k of a.invert ?? []) {
            if (a[k] === undefined) issue("invert", `names ${k}, which is not given (invert negates a match: "! -s NET")`);
        }
        if (new Set(a.invert).size !== (a.invert ?? []).length) issue("invert", "names a match twice");
        if (new Set(a.ctstate).size !== (a.ctstate ?? []).length) issue("ctstate", "lists a state twice");
        if (new Set(a.state).size !== (a.state ?? []).length) issue("state", "lists a state twice");
    });
export type IptablesRuleSchema = z.infer<typeof IptablesRuleSchema>;

/** An ICMP type as iptables lists it (`8`, `3/1`, `any`), from a number, that form or a name; undefined when it is none of them. */
function icmpCode(t: number | string, family: Family): string | undefined {
    if (typeof t === "number") return String(t);
    if (t === "any" || /^\d{1,3}(\/\d{1,3})?$/.test(t)) return t.split("/").every((n) => n === "any" || Number(n) <= 255) ? t : undefined;
    return ICMP_TYPES[family][t];
}

/** The inputs, in the order a declaration gives them. */
export const IPTABLES_RULE_KEYS = inputKeys(IptablesRuleSchema);

/** TCP flags as iptables lists them: in its order, ALL expanded, none as NONE. */
function flagList(flags: readonly string[]): string[] {
    return flags.includes("ALL") ? [...TCP_FLAGS] : TCP_FLAGS.filter((f) => flags.includes(f));
}
const flagText = (flags: readonly string[]) => flagList(flags).join(",") || "NONE";

/** What tells the rule's family, by key: its addresses (networks, NAT targets' addresses) and an ICMP protocol (as an address of its family). */
function familyHints(a: IptablesRuleSchema): [string, string | undefined][] {
    const icmp = a.protocol === "icmp" ? "0.0.0.0" : a.protocol === "ipv6-icmp" ? "::" : undefined;
    return [["source", a.source], ["destination", a.destination], ["toDestination", a.toDestination && addressOf(a.toDestination)], ["toSource", a.toSource && addressOf(a.toSource)], ["protocol", icmp]];
}

/** The rule's family: the given one, else its addresses' or ICMP protocol's, else IPv4. */
function familyOf(a: IptablesRuleSchema): Family {
    const first = familyHints(a).find(([, v]) => v !== undefined)?.[1];
    return a.family ?? (first === undefined ? 4 : parsePrefix(first)!.family);
}

/**
 * The rule's arguments in the order `iptables -S` lists them: `[!] -s [!] -d [!] -i [!] -o [!] -p`,
 * then `-m icmp`/`icmp6`, `-m conntrack`, `-m state`, `-m PROTO` with its ports (and TCP flags), then the target and its options.
 */
export function iptablesRuleSpec(a: IptablesRuleSchema): string[] {
    const family = familyOf(a);
    const not = (k: (typeof INVERTIBLE)[number]) => (a.invert?.includes(k) ? ["!"] : []);
    const opt = (k: (typeof INVERTIBLE)[number], flag: string, v: unknown) => (v === undefined ? [] : [...not(k), flag, String(v)]);
    const ordered = (list: readonly string[] | undefined) => STATES.filter((s) => list?.includes(s)).join(",");
    const sport = opt("sourcePort", "--sport", a.sourcePort), dport = opt("destinationPort", "--dport", a.destinationPort);
    const flags = a.tcpFlags ? [...not("tcpFlags"), "--tcp-flags", flagText(a.tcpFlags.mask), flagText(a.tcpFlags.set)] : [];
    return [
        ...opt("source", "-s", a.source),
        ...opt("destination", "-d", a.destination),
        ...opt("inInterface", "-i", a.inInterface),
        ...opt("outInterface", "-o", a.outInterface),
        ...opt("protocol", "-p", a.protocol),
        ...(a.icmpType === undefined ? [] : family === 6 ? ["-m", "icmp6", "--icmpv6-type", icmpCode(a.icmpType, 6)!] : ["-m", "icmp", "--icmp-type", icmpCode(a.icmpType, 4)!]),
        ...(a.ctstate ? ["-m", "conntrack", "--ctstate", ordered(a.ctstate)] : []),
        ...(a.state ? ["-m", "state", "--state", ordered(a.state)] : []),
        ...(sport.length || dport.length || flags.length ? ["-m", a.protocol!, ...sport, ...dport, ...flags] : []),
        "-j", a.jump,
        ...(a.toDestination ? ["--to-destination", a.toDestination] : []),
        ...(a.toSource ? ["--to-source", a.toSource] : []),
        ...(a.toPorts !== undefined ? ["--to-ports", String(a.toPorts)] : []),
        ...(a.jump === "REJECT" ? ["--reject-with", a.rejectWith ?? REJECT_WITH[family][0]] : []),
        ...(a.logPrefix !== undefined ? ["--log-prefix", a.logPrefix] : []),
    ];
}

/** A listed rule's arguments as {@link IptablesRuleSchema} (not yet validated), or why no IptablesRule declares it. */
export type ParsedRule = { args: Record<string, unknown>; comment?: string } | { problem: string };

/**
 * Reads a listed rule's arguments (after `-A CHAIN`, in any order a script wrote them) back into an
 * IptablesRule's inputs: the inverse of {@link iptablesRuleSpec}. A match or target option no
 * property declares (`-m multiport`, `--log-level`, `-g`) is a problem, named.
 */
export function parseIptablesRule(args: string[]): ParsedRule {
    const out: Record<string, unknown> = {};
    const invert: string[] = [];
    let comment: string | undefined;
    const num = (v: string) => (/^\d+$/.test(v) ? Number(v) : v);
    const simple: Record<string, string> = { "-s": "source", "-d": "destination", "-i": "inInterface", "-o": "outInterface", "-p": "protocol" };
    const modules: Record<string, Record<string, [string, (v: string) => unknown]>> = {
        icmp: { "--icmp-type": ["icmpType", num] },
        icmp6: { "--icmpv6-type": ["icmpType", num] },
        conntrack: { "--ctstate": ["ctstate", (v) => v.split(",")] },
        state: { "--state": ["state", (v) => v.split(",")] },
        ...Object.fromEntries(PORTED.map((p) => [p, { "--sport": ["sourcePort", num], "--dport": ["destinationPort", num] }])),
        comment: { "--comment": ["comment", (v) => v] },
    };
    const targetOptions: Record<string, [string, (v: string) => unknown]> = {
        "--to-destination": ["toDestination", (v) => v], "--to-source": ["toSource", (v) => v], "--to-ports": ["toPorts", num],
        "--reject-with": ["rejectWith", (v) => v], "--log-prefix": ["logPrefix", (v) => v],
    };
    let module: string | undefined;
    for (let i = 0; i < args.length; i++) {
        let flag = args[i];
        const negated = flag === "!";
        if (negated) flag = args[++i];
        const value = args[i + 1];
        if (flag === "-j") {
            if (negated || value === undefined) return { problem: "a target this rule cannot read" };
            out.jump = value;
            for (i += 2; i < args.length; i += 2) {
                const o = targetOptions[args[i]];
                if (!o || args[i + 1] === undefined) return { problem: `target option ${args[i]}, which no IptablesRule property makes` };
                out[o[0]] = o[1](args[i + 1]);
            }
            break;
        }
        if (flag === "-g") return { problem: "a goto (-g), which IptablesRule does not make (it jumps, -j)" };
        if (flag === "-m") {
            if (negated || !modules[value]) return { problem: `match -m ${value}, which no IptablesRule property makes` };
            module = value;
            i++;
            continue;
        }
        if (flag === "--tcp-flags" && module === "tcp" && args[i + 2] !== undefined) {
            if (negated) invert.push("tcpFlags");
            out.tcpFlags = { mask: value.split(","), set: args[i + 2] === "NONE" ? [] : args[i + 2].split(",") };
            i += 2;
            continue;
        }
        const key = simple[flag] ?? (module ? modules[module][flag]?.[0] : undefined);
        if (key === undefined || value === undefined) return { problem: `${negated ? "! " : ""}${flag}${module && !simple[flag] ? ` (of -m ${module})` : ""}, which no IptablesRule property makes` };
        if (key === "comment") {
            if (comment !== undefined) return { problem: "two comments" };
            comment = value;
        } else {
            if (out[key] !== undefined) return { problem: `${flag} given twice` };
            out[key] = simple[flag] ? value : modules[module!][flag][1](value);
            if (negated) {
                if (!(INVERTIBLE as readonly string[]).includes(key)) return { problem: `! ${flag}, which IptablesRule cannot negate` };
                invert.push(key);
            }
        }
        i++;
    }
    if (out.jump === undefined) return { problem: "no target (-j): a rule that only counts packets" };
    if (out.rejectWith === REJECT_WITH[4][0] || out.rejectWith === REJECT_WITH[6][0]) delete out.rejectWith; // the default, listed
    if (invert.length) out.invert = invert;
    return { args: out, ...(comment !== undefined ? { comment } : {}) };
}

/** The iptables rule of an IptablesRule; listed rules are compared by meaning (a script's order and spelling of the same rule is it). */
export function iptablesRule(a: IptablesRuleSchema): Rule {
    const family = familyOf(a);
    const spec = iptablesRuleSpec(a);
    return {
        family,
        table: a.table,
        chain: a.chain,
        spec,
        comment: a.owner,
        netns: a.netns,
        same: (args) => {
            const parsed = parseIptablesRule(args);
            if ("problem" in parsed || parsed.comment !== undefined) return false;
            const r = IptablesRuleSchema.safeParse({ ...parsed.args, table: a.table, chain: a.chain, family, owner: a.owner });
            return r.success && same(iptablesRuleSpec(r.data), spec);
        },
    };
}

/**
 * The provider behind {@link IptablesRule} (see {@link ruleResourceProvider}): placed as `placement`
 * says, any change a replacement (delete first), delete removes only rules carrying its owner comment.
 */
export const iptablesRuleProvider = ruleResourceProvider({
    schema: IptablesRuleSchema,
    keys: IPTABLES_RULE_KEYS,
    computedWhenOmitted: ["family"],
    toRules: (a) => [iptablesRule(a)],
    output: "rule",
    placement: (a) => a.placement,
});

/** Arguments of {@link IptablesRule}: where the rule goes, what it matches (all given matches at once), and its target. */
export interface IptablesRuleArgs extends TargetArgs {
    /** "filter" (default), "nat", "mangle" or "raw". */
    table?: pulumi.Input<string | undefined>;
    /** A built-in chain of the table ("FORWARD") or a user-defined one (an {@link IptablesChain}'s `name`). */
    chain: pulumi.Input<string>;
    /** 4 (iptables) or 6 (ip6tables). Default: the family of the addresses, else of an ICMP protocol, else 4. */
    family?: pulumi.Input<number | undefined>;
    /** "append" (default: the end of the chain, `-A`) or "insert" (its first rule, `-I CHAIN 1`). */
    placement?: pulumi.Input<string | undefined>;
    /** `-p`: tcp, udp, sctp, dccp, udplite, icmp, icmpv6, gre, esp or ah. Omitted: every protocol. */
    protocol?: pulumi.Input<string | undefined>;
    /** `-s`: an address or a network ("10.1.0.0/16", "192.0.2.1"). */
    source?: pulumi.Input<string | undefined>;
    /** `-d`: an address or a network. */
    destination?: pulumi.Input<string | undefined>;
    /** `-i`: the interface packets arrive on ("veth+" for every veth…). */
    inInterface?: pulumi.Input<string | undefined>;
    /** `-o`: the interface packets leave through. */
    outInterface?: pulumi.Input<string | undefined>;
    /** `--sport`: a port or a range "1000:2000" (needs protocol tcp, udp, sctp or dccp). */
    sourcePort?: pulumi.Input<number | string | undefined>;
    /** `--dport`: a port or a range "1000:2000" (needs protocol tcp, udp, sctp or dccp). */
    destinationPort?: pulumi.Input<number | string | undefined>;
    /** `--tcp-flags MASK SET`: of the flags in `mask`, exactly those in `set` are on; `{ mask: ["FIN", "SYN", "RST", "ACK"], set: ["SYN"] }` is `--syn`. Needs protocol tcp. */
    tcpFlags?: pulumi.Input<{ mask: pulumi.Input<string>[]; set: pulumi.Input<string>[] } | undefined>;
    /** `--icmp-type` / `--icmpv6-type`: a number, "TYPE/CODE", "any" or a name ("echo-request"); needs protocol icmp or icmpv6. */
    icmpType?: pulumi.Input<number | string | undefined>;
    /** `-m conntrack --ctstate`: connection states (INVALID, NEW, RELATED, ESTABLISHED, UNTRACKED, SNAT, DNAT). */
    ctstate?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** `-m state --state`: the older spelling of ctstate (INVALID, NEW, RELATED, ESTABLISHED, UNTRACKED). */
    state?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** Matches to negate (`! -s NET`): any of source, destination, inInterface, outInterface, protocol, sourcePort, destinationPort, tcpFlags. */
    invert?: pulumi.Input<pulumi.Input<string>[] | undefined>;
    /** `-j`: ACCEPT, DROP, RETURN, REJECT, LOG, MASQUERADE, SNAT, DNAT, REDIRECT, or a user-defined chain (an {@link IptablesChain}'s `name`). */
    jump: pulumi.Input<string>;
    /** DNAT's `--to-destination`: "192.0.2.1", "192.0.2.1:80", "[fd00::1]:8080". */
    toDestination?: pulumi.Input<string | undefined>;
    /** SNAT's `--to-source`: an address, optionally with a port or port range. */
    toSource?: pulumi.Input<string | undefined>;
    /** REDIRECT's and MASQUERADE's `--to-ports`: a port or a range "8000-8010". */
    toPorts?: pulumi.Input<number | string | undefined>;
    /** REJECT's `--reject-with`. Default: icmp-port-unreachable (icmp6-port-unreachable for IPv6). */
    rejectWith?: pulumi.Input<string | undefined>;
    /** LOG's `--log-prefix` (at most 29 characters). */
    logPrefix?: pulumi.Input<string | undefined>;
    /** The namespace whose table holds the rule. Default: the root namespace. */
    netns?: pulumi.Input<string | undefined>;
}

/** IptablesRule's outputs: every input as check normalised it, and what the kernel reports. */
export interface IptablesRule extends ResourceOutputs<IptablesRuleSchema & z.infer<typeof RuleOutputFields>> {}

/**
 * Any one iptables or ip6tables rule, its match and target given as properties, owned by its
 * comment like the other rules. Equivalent to:
 * `[ip netns exec NS] iptables -w -t TABLE -A CHAIN MATCHES -m comment --comment OWNER -j TARGET OPTIONS`
 * (`-I CHAIN 1` with `placement: "insert"`; `ip6tables` for IPv6). Outputs `family` and `rule`
 * (the rule as `iptables -S` lists it: a hand edit shows up there at refresh, and the next `up` replaces it).
 */
export class IptablesRule extends pulumi.CustomResource {
    constructor(name: string, args: IptablesRuleArgs, opts?: pulumi.CustomResourceOptions) {
        const r = registration("IptablesRule", name, args, IPTABLES_RULE_KEYS, inputKeys(RuleOutputFields), opts);
        try {
            super(...r.args);
        } finally {
            r.done();
        }
    }
}
