import { z } from "zod";
import { withoutFilledDefaults } from "./defaults";
import { addressFamily, addressProblem, canonicalPrefix, hasHostBits, networkOf, parsePrefix } from "./ip";
import { RESOURCE_NAME, rememberResource } from "./owner";

/** What Pulumi sends for a value not known yet (during `pulumi preview`). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function isUnknown(v: unknown): boolean {
    return v === UNKNOWN;
}

const SAFE = /^[A-Za-z0-9_.@+-]+$/;

/** Rules shared by interface and namespace names: no option injection, no path tricks, plain ASCII. */
function safeName(kind: string, max: number, why: string) {
    return z
        .string({ error: `${kind} must be a string` })
        .min(1, `${kind} must not be empty`)
        .max(max, `${kind} must be at most ${max} characters (${why})`)
        .refine((s) => !s.startsWith("-"), `${kind} must not start with '-' (it would be read as an option)`)
        .refine((s) => s !== "." && s !== "..", `${kind} must not be '.' or '..'`)
        .refine(
            (s) => SAFE.test(s),
            `${kind} may contain only ASCII letters, digits and . _ - @ + (no '/', ':', whitespace, quotes or shell characters)`,
        );
}

/** A Linux interface name: 1–15 characters (IFNAMSIZ), see {@link safeName}. */
export const IfName = safeName("an interface name", 15, "the kernel's IFNAMSIZ limit");

/** A named network namespace (a file under /run/netns): up to 255 characters, see {@link safeName}. */
export const NetnsName = safeName("a namespace name", 255, "a file name under /run/netns");

/**
 * An interface address with its prefix length, IPv4 or IPv6 ("10.1.1.1/16", "fd00::1/64"),
 * normalised to the form the kernel prints ("FD00:0::1/64" → "fd00::1/64"). Host bits are expected.
 */
export const InterfaceAddress = z
    .string()
    .superRefine((s, ctx) => {
        const why = addressProblem(s, true);
        if (why) ctx.addIssue({ code: "custom", message: `must be an address with a prefix length, e.g. 10.1.1.1/24 or fd00::1/64: ${why}` });
    })
    .transform(canonicalPrefix);

/** A list of interface addresses without repeats. */
export const InterfaceAddresses = z
    .array(InterfaceAddress)
    .refine((list) => new Set(list).size === list.length, "must not list the same address twice")
    .default([]);

/** Why `s` is not a network prefix (malformed, or host bits set: "did you mean 10.1.0.0/16?"); undefined when it is one. */
export function networkProblem(s: string): string | undefined {
    const why = addressProblem(s, true);
    if (why) return `must be a network prefix, e.g. 10.1.0.0/16 or fd00::/64: ${why}`;
    const p = parsePrefix(s)!;
    if (hasHostBits(p)) return `has host bits set (${s} is an address in ${networkOf(p)}, not a network): did you mean ${networkOf(p)}?`;
    return undefined;
}

/** A network prefix ("10.1.0.0/16"): host bits must be zero, as `ip route` and iptables require. */
export const Network = z
    .string()
    .superRefine((s, ctx) => {
        const why = networkProblem(s);
        if (why) ctx.addIssue({ code: "custom", message: why });
    })
    .transform(canonicalPrefix);

/** A single IPv4 or IPv6 address, normalised ("FD00:0::1" → "fd00::1"). */
export const IpAddress = z
    .string()
    .superRefine((s, ctx) => {
        const why = addressProblem(s, false);
        if (why) ctx.addIssue({ code: "custom", message: `must be an IPv4 or IPv6 address: ${why}` });
    })
    .transform(canonicalPrefix);

/**
 * A link's Ethernet (MAC) address: six colon-separated bytes ("0a:bc:de:f0:00:01"), normalised to the
 * lower case `ip -json` prints. Unicast (the lowest bit of the first byte clear: a multicast address
 * is refused by the kernel as a link's own) and not all zeros.
 */
export const Mac = z
    .string({ error: 'must be a MAC address, six colon-separated bytes such as "0a:bc:de:f0:00:01"' })
    .transform((s) => s.toLowerCase())
    .superRefine((s, ctx) => {
        if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(s)) ctx.addIssue({ code: "custom", message: `must be a MAC address, six colon-separated bytes of two hex digits such as "0a:bc:de:f0:00:01", not ${JSON.stringify(s)}` });
        else if (s === "00:00:00:00:00:00") ctx.addIssue({ code: "custom", message: "must not be all zeros (the kernel refuses 00:00:00:00:00:00 as a link's address)" });
        else if (parseInt(s.slice(0, 2), 16) & 1) ctx.addIssue({ code: "custom", message: `${s} is a multicast address (the lowest bit of its first byte is set): a link's own address must be unicast, e.g. "${(parseInt(s.slice(0, 2), 16) & 0xfe).toString(16).padStart(2, "0")}${s.slice(2)}"` });
    });

/** An MTU: 68 (the IPv4 minimum) to 65535. */
export const Mtu = z.number().int("mtu must be a whole number").min(68, "mtu must be at least 68").max(65535, "mtu must be at most 65535");

/** tc's rate units, in bits per second (`bps` and its multiples are bytes per second). */
const RATE_UNITS: Record<string, number> = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9, tbit: 1e12, bps: 8, kbps: 8e3, mbps: 8e6, gbps: 8e9, tbps: 8e12 };

/** A rate as tc takes it ("20mbit", "1gbit", "500kbps"), normalised to lower case; more than 0. */
export const Rate = z
    .string({ error: 'must be a rate such as "20mbit"' })
    .transform((s) => s.trim().toLowerCase())
    .superRefine((s, ctx) => {
        if (!/^\d+(\.\d+)?(bit|kbit|mbit|gbit|tbit|bps|kbps|mbps|gbps|tbps)$/.test(s)) ctx.addIssue({ code: "custom", message: `must be a number and a unit (${Object.keys(RATE_UNITS).join(", ")}), e.g. "20mbit"` });
        else if (!(rateBits(s) > 0)) ctx.addIssue({ code: "custom", message: "must be more than 0" });
    });

/** A rate in bits per second ("20mbit" → 20000000). */
export function rateBits(rate: string): number {
    const m = /^(\d+(?:\.\d+)?)([a-z]+)$/.exec(rate);
    return m && RATE_UNITS[m[2]] !== undefined ? Number(m[1]) * RATE_UNITS[m[2]] : NaN;
}

/** A burst as tc takes it ("32kb", "1mb", "15000"), in bytes: at least one full frame (1600 bytes). */
export const Burst = z
    .string({ error: 'must be a size such as "32kb"' })
    .transform((s) => s.trim().toLowerCase())
    .superRefine((s, ctx) => {
        if (!/^\d+(b|kb|mb)?$/.test(s)) ctx.addIssue({ code: "custom", message: 'must be a number of bytes, optionally with b, kb or mb, e.g. "32kb"' });
        else if (burstBytes(s) < 1600) ctx.addIssue({ code: "custom", message: "must be at least 1600 bytes (one full frame)" });
    });

/** A burst in bytes ("32kb" → 32768). */
export function burstBytes(burst: string): number {
    const m = /^(\d+)(b|kb|mb)?$/.exec(burst);
    return m ? Number(m[1]) * (m[2] === "kb" ? 1024 : m[2] === "mb" ? 1024 * 1024 : 1) : NaN;
}

/**
 * The address-family check every schema with addresses runs: each given value (an address or a prefix,
 * by its key) must be of `family` when one is declared, else of the first value's family. Adds one
 * issue per value that differs, naming it and what it must agree with.
 */
export function checkFamilies(ctx: z.RefinementCtx, values: [key: string, value: string | undefined][], family?: 4 | 6): void {
    const given = values
        .map(([k, v]) => [k, v === undefined ? undefined : parsePrefix(v)?.family] as const)
        .filter((x): x is readonly [string, 4 | 6] => x[1] !== undefined);
    const expected = family ?? given[0]?.[1];
    const with_ = family === undefined ? given[0]?.[0] : "family";
    for (const [k, f] of given) {
        if (f !== expected) ctx.addIssue({ code: "custom", path: [k], message: `is IPv${f} but ${with_} is IPv${expected} (${[...given.map(([x]) => x), ...(family ? ["family"] : [])].join(", ")} must be of one family)` });
    }
}

/** The settings every single link (a bridge, a macvlan, a VXLAN device) takes, in one place. */
export const LinkFields = {
    netns: NetnsName.optional(),
    addresses: InterfaceAddresses,
    mtu: Mtu.optional(),
    up: z.boolean().default(true),
    dad: z.boolean().default(false),
    mac: Mac.optional(),
};

/** What a bridge, macvlan or VXLAN device outputs besides its inputs: its MAC address. */
export const LinkOutputFields = z.object({ mac: z.string() });

/** An address family as a rule resource outputs it: 4 (iptables) or 6 (ip6tables). */
export const FamilyField = z.union([z.literal(4), z.literal(6)]);

/** The ownership token every resource carries (set by the resource class, see `ownerToken`). */
export const Owner = z.string().regex(/^pulumi-netns:[0-9a-f]{16}$/, "must be a pulumi-netns ownership token");

/** A check failure as Pulumi reports it. */
export interface CheckFailure {
    property: string;
    reason: string;
}

/** True when the value at `path` in `obj`, or any value on the way there, is unknown. */
function touchesUnknown(obj: unknown, path: PropertyKey[]): boolean {
    let cur: unknown = obj;
    for (const key of path) {
        if (isUnknown(cur)) return true;
        if (cur === null || typeof cur !== "object") return false;
        cur = (cur as Record<PropertyKey, unknown>)[key];
    }
    return isUnknown(cur);
}

/**
 * Validates `news` against `schema` without running anything, and returns the normalised
 * inputs with the failures, each naming the property and the rule it broke. The inputs leave
 * out the defaults of properties `news` leaves out (see core/defaults.ts). Values not known yet
 * (during `pulumi preview`) pass: failures about them are dropped.
 */
export function checkWith(
    schema: z.ZodObject,
    news: Record<string, unknown>,
): { inputs: Record<string, unknown>; failures: CheckFailure[] } {
    const { __provider, [RESOURCE_NAME]: resource, [REPLACE_ON_CHANGES]: replaceOnChanges, ...rest } = news;
    rememberResource(rest.owner, resource);
    // Kept for diff (see REPLACE_ON_CHANGES); create and update drop it with `withoutProvider`.
    const hidden = replaceOnChanges === undefined ? {} : { [REPLACE_ON_CHANGES]: replaceOnChanges };
    const result = schema.safeParse(rest);
    if (result.success) {
        return { inputs: { ...withoutFilledDefaults(schema, stripUndefined(result.data as Record<string, unknown>), rest), ...hidden }, failures: [] };
    }
    const failures = checkFailures(schema, rest, result.error);
    if (failures.length > 0) {
        return { inputs: rest, failures };
    }
    // Only unknown values failed: the inputs as given.
    return { inputs: { ...rest, ...hidden }, failures: [] };
}

/**
 * The failures of a parse, each naming the property and the rule it broke (an unknown key with
 * the known one it most likely meant); failures about values not known yet are left out.
 */
export function checkFailures(schema: z.ZodType, value: unknown, error: z.ZodError): CheckFailure[] {
    const failures: CheckFailure[] = [];
    for (const issue of error.issues) {
        if (touchesUnknown(value, issue.path)) continue;
        if (issue.code === "unrecognized_keys") {
            const known = Object.keys(shapeAt(schema, issue.path) ?? {}).filter((k) => k !== "owner");
            for (const key of issue.keys) {
                const property = [...issue.path.map(String), key].join(".");
                failures.push({ property, reason: unknownProperty(property, key, known) });
            }
            continue;
        }
        const property = issue.path.map(String).join(".") || "(resource)";
        failures.push({ property, reason: issue.message });
    }
    return failures;
}

/** The shape of the object schema at `path` inside `schema` (for the names an unknown key could have meant). */
function shapeAt(schema: z.ZodType, path: PropertyKey[]): Record<string, unknown> | undefined {
    // Look through optional, default, refinements and pipes to the object underneath.
    const unwrap = (t: z.ZodType | undefined): z.ZodType | undefined => {
        for (let i = 0; i < 8 && t && !(t instanceof z.ZodObject); i++) {
            const def: any = (t as any)._zod?.def;
            t = def?.innerType ?? def?.in ?? def?.schema;
        }
        return t;
    };
    let cur = unwrap(schema);
    for (const key of path) {
        if (!(cur instanceof z.ZodObject)) return undefined;
        cur = unwrap((cur.shape as Record<string, z.ZodType>)[String(key)]);
    }
    return cur instanceof z.ZodObject ? (cur.shape as Record<string, unknown>) : undefined;
}

/** "unknown property 'peerAdresses': did you mean 'peerAddresses'?" (or the list of known ones). */
export function unknownProperty(property: string, key: string, known: string[]): string {
    const near = known
        .map((k) => [k, editDistance(key.toLowerCase(), k.toLowerCase())] as const)
        .filter(([k, d]) => d <= Math.max(2, Math.floor(k.length / 4)))
        .sort((a, b) => a[1] - b[1])[0];
    return near
        ? `unknown property '${property}': did you mean '${near[0]}'?`
        : `unknown property '${property}' (known: ${known.join(", ")})`;
}

/** Levenshtein distance (for suggestions only). */
function editDistance(a: string, b: string): number {
    let row = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const next = [i];
        for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        row = next;
    }
    return row[b.length];
}

/** Removes keys whose value is undefined (the engine's protocol has no undefined), recursively. */
export function stripUndefined<T extends Record<string, unknown>>(obj: T): T {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) {
        if (v === undefined) continue;
        out[k] = v !== null && typeof v === "object" && !Array.isArray(v) ? stripUndefined(v as Record<string, unknown>) : v;
    }
    return out as T;
}

/**
 * The hidden input that carries the resource option `replaceOnChanges` to diff (the resource
 * classes set it): the engine applies that option only to the keys a provider reports changed,
 * which the dynamic-provider host never reports. `__`-keys are Pulumi's own: never displayed.
 */
export const REPLACE_ON_CHANGES = "__replaceOnChanges";

/** The inputs without the engine's `__provider` key and the hidden `replaceOnChanges` one. */
export function withoutProvider(props: Record<string, unknown>): Record<string, unknown> {
    const { __provider, [REPLACE_ON_CHANGES]: _replaceOnChanges, ...rest } = props;
    return rest;
}

/** A host name (RFC 1123 labels) or an IPv4/IPv6 address; never starting with '-' (ssh would read an option). */
const HostName = z
    .string({ error: "must be a host name or an IP address" })
    .refine(
        (s) => addressFamily(s) !== undefined || (s.length <= 253 && /^(?!-)[A-Za-z0-9-]{1,63}(\.(?!-)[A-Za-z0-9-]{1,63})*\.?$/.test(s)),
        "must be a host name or an IP address",
    );

/** A user name as ssh and sudo take it: no '-' first, no whitespace or shell characters. */
const UserName = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/, "must be a user name (letters, digits, _ . @ -, not starting with '-')");

/**
 * Where a resource's commands run (see linux/target.ts): a remote host over SSH. Close to
 * @pulumi/command's `remote.Connection`. Secrets (privateKey, privateKeyPassword) are never
 * echoed by a failure: the messages name only the property.
 */
export const Connection = z
    .object({
        host: HostName,
        port: z.number().int("port must be a whole number").min(1, "port must be 1–65535").max(65535, "port must be 1–65535").default(22),
        user: UserName.optional(),
        privateKey: z.string().refine((s) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s), "must be a private key in PEM/OpenSSH form (-----BEGIN … PRIVATE KEY-----)").optional(),
        privateKeyPassword: z.string().optional(),
        agentSocketPath: z.string().refine((s) => s.startsWith("/") && !s.includes("\n"), "must be an absolute path").optional(),
        hostKey: z
            .string()
            .regex(/^\s*[a-z0-9@.-]+ [A-Za-z0-9+/]+={0,3}( [^\n]*)?\s*$/, 'must be the host\'s public key, "TYPE BASE64" (e.g. the contents of /etc/ssh/ssh_host_ed25519_key.pub)')
            .optional(),
        proxyJump: z.string().regex(/^(?!-)[A-Za-z0-9_.@:,[\]-]+$/, "must be [user@]host[:port][,…] (no '-' first, no spaces or shell characters)").optional(),
    })
    .strict();
/** How to reach a remote host, as a resource's `connection` input gives it (`port` may be omitted: 22). */
export type Connection = z.input<typeof Connection>;

/** `connection`, `sudo` and `adopt`, the inputs every resource takes (spread into each schema). */
export const TargetFields = {
    connection: Connection.optional(),
    /** Run every command through `sudo -n` (locally or on the remote host). */
    sudo: z.boolean().optional(),
    /** Let create take over an existing object of this identity that carries no marker, if it matches the declaration (see core/adopt.ts). */
    adopt: z.boolean().optional(),
};

/**
 * A resource's own input keys, in declaration order: its schema's, less those every resource takes
 * ({@link TargetFields}). The one list diff compares and the resource class registers as outputs.
 */
export function inputKeys<S extends z.ZodObject>(schema: S): readonly (keyof z.infer<S> & string)[] {
    return Object.keys(schema.shape).filter((k) => !(k in TargetFields)) as (keyof z.infer<S> & string)[];
}
