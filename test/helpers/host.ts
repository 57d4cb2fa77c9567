/**
 * Drives the real Pulumi dynamic-provider host (cmd/dynamic-provider) over gRPC,
 * the way the engine does: serialize the provider, put it under `__provider`,
 * call Configure, then Check/Diff/Create/Read/Update/Delete.
 */
import { ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as readline from "readline";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
const PULUMI_DIR = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [REPO_ROOT] }));
const HOST_JS = path.join(PULUMI_DIR, "cmd", "dynamic-provider", "index.js");

// Same module instances the host and the generated gRPC stubs use.
// eslint-disable-next-line @typescript-eslint/no-var-requires
const grpc: typeof import("@grpc/grpc-js") = require(require.resolve("@grpc/grpc-js", { paths: [PULUMI_DIR] }));
import * as provrpc from "@pulumi/pulumi/proto/provider_grpc_pb";
import * as provproto from "@pulumi/pulumi/proto/provider_pb";
import * as plugproto from "@pulumi/pulumi/proto/plugin_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";

/** The engine's "unknown" sentinel (= pulumi.runtime.unknownValue), sent during previews. */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
export const PROVIDER_KEY = "__provider";

export type Props = Record<string, unknown>;

/** Serializes a dynamic provider exactly like pulumi.dynamic.Resource (closure serialization). */
export async function serializeProvider(provider: object): Promise<string> {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const sc: typeof import("@pulumi/pulumi/runtime/closure/serializeClosure") = require("@pulumi/pulumi/runtime/closure/serializeClosure");
    return (await sc.serializeFunction(() => provider, { allowSecrets: true })).text;
}

/**
 * The serialized provider of a resource kind, as the package's class registers it (from the built
 * `dist/`, which is what a program loads): the `__provider` input a resource sends the host.
 */
export async function serializedProviderOf(kind: string): Promise<string> {
    const shim = require(`${REPO_ROOT}/dist/provider/core/shim`) as typeof import("../../provider/core/shim");
    return shim.providerSource(kind);
}

/** URN as the engine builds it for a dynamic resource of the given type name. */
export function urn(type: string, name: string): string {
    return `urn:pulumi:test::proj::pulumi-nodejs:dynamic/netns:${type}::${name}`;
}

/** Drops undefined object keys (the SDK never sends them) and maps undefined array items to null. */
function clean(v: unknown): unknown {
    if (Array.isArray(v)) return v.map((x) => (x === undefined ? null : clean(x)));
    if (v !== null && typeof v === "object") {
        const o: Props = {};
        for (const [k, x] of Object.entries(v)) if (x !== undefined) o[k] = clean(x);
        return o;
    }
    return v;
}

function toStruct(p: Props): Struct {
    return Struct.fromJavaScript(clean(p) as Record<string, never>);
}

function fromStruct(s: Struct | undefined): Props | undefined {
    return s ? (s.toJavaScript() as Props) : undefined;
}

export interface CheckResult { inputs: Props; failures: { property: string; reason: string }[] }
export interface DiffResult {
    changes: "none" | "some" | "unknown";
    replaces: string[];
    deleteBeforeReplace: boolean;
    stables: string[];
    diffs: string[];
}

export interface Host {
    readonly pid: number;
    readonly port: number;
    /** Everything the host wrote to stderr so far (it logs provider errors there). */
    stderr(): string;
    /** Peak resident set size of the host process in KiB (VmHWM). */
    peakRssKb(): number;
    /** Current resident set size in KiB (VmRSS). */
    rssKb(): number;
    check(urn: string, olds: Props, news: Props): Promise<CheckResult>;
    /** `olds` = prior state (outputs incl. __provider), `news` = checked inputs. */
    diff(urn: string, id: string, olds: Props, news: Props): Promise<DiffResult>;
    create(urn: string, inputs: Props, opts?: { preview?: boolean }): Promise<{ id: string; outs: Props }>;
    read(urn: string, id: string, props: Props, inputs?: Props): Promise<{ id: string; props: Props; inputs?: Props }>;
    update(urn: string, id: string, olds: Props, news: Props, opts?: { preview?: boolean }): Promise<{ outs: Props }>;
    delete(urn: string, id: string, props: Props): Promise<void>;
    /** Kills the host and closes the client. */
    stop(): Promise<void>;
}

function readStatusKb(pid: number, field: string): number {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    if (!m) throw new Error(`${field} not found for pid ${pid}`);
    return Number(m[1]);
}

type Unary<Req, Resp> = (req: Req, cb: (err: Error | null, resp?: Resp) => void) => unknown;

/** Spawns the host (cwd = repo root), reads its port, and sends Configure like the engine. */
export async function startHost(opts: { config?: Props; startTimeoutMs?: number } = {}): Promise<Host> {
    // The host requires an engine address argument but never dials it (only the gRPC server is used).
    const child: ChildProcess = spawn(process.execPath, [HOST_JS, "127.0.0.1:1"], {
        cwd: REPO_ROOT,
        stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => { child.kill("SIGKILL"); reject(new Error(`host did not print a port\n${stderr}`)); },
            opts.startTimeoutMs ?? 20000);
        const rl = readline.createInterface({ input: child.stdout! });
        rl.once("line", (line) => { clearTimeout(timer); rl.close(); resolve(Number(line.trim())); });
        child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`host exited (${code}) before listening\n${stderr}`)); });
    });
    child.stdout!.resume(); // keep draining stdout
    const client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

    const call = <Req, Resp>(method: string, req: Req): Promise<Resp> =>
        new Promise<Resp>((resolve, reject) => {
            const fn = (client as unknown as Record<string, Unary<Req, Resp>>)[method].bind(client);
            fn(req, (err, resp) => {
                if (err) {
                    const e = err as Error & { details?: string; code?: number };
                    const wrapped = new Error(`${method} failed: ${e.details || e.message}`) as Error & { code?: number; grpcError?: Error };
                    wrapped.code = e.code;
                    wrapped.grpcError = err;
                    reject(wrapped);
                } else resolve(resp as Resp);
            });
        });

    // What the engine does first: GetPluginInfo, then Configure (CheckConfig/DiffConfig are UNIMPLEMENTED in this host).
    await call<Empty, plugproto.PluginInfo>("getPluginInfo", new Empty());
    const conf = new provproto.ConfigureRequest();
    conf.setArgs(toStruct(opts.config ?? {}));
    conf.setAcceptsecrets(true);
    conf.setAcceptresources(true);
    await call<provproto.ConfigureRequest, provproto.ConfigureResponse>("configure", conf);

    const nameOf = (u: string) => u.split("::").pop() ?? "";
    const typeOf = (u: string) => u.split("::")[2] ?? "";

    const host: Host = {
        pid: child.pid!,
        port,
        stderr: () => stderr,
        peakRssKb: () => readStatusKb(child.pid!, "VmHWM"),
        rssKb: () => readStatusKb(child.pid!, "VmRSS"),
        async check(u, olds, news) {
            const req = new provproto.CheckRequest();
            req.setUrn(u).setName(nameOf(u)).setType(typeOf(u));
            req.setOlds(toStruct(olds)).setNews(toStruct(news));
            const resp = await call<provproto.CheckRequest, provproto.CheckResponse>("check", req);
            return {
                inputs: fromStruct(resp.getInputs()) ?? {},
                failures: resp.getFailuresList().map((f) => ({ property: f.getProperty(), reason: f.getReason() })),
            };
        },
        async diff(u, id, olds, news) {
            const req = new provproto.DiffRequest();
            req.setUrn(u).setId(id).setName(nameOf(u)).setType(typeOf(u));
            req.setOlds(toStruct(olds)).setNews(toStruct(news));
            const resp = await call<provproto.DiffRequest, provproto.DiffResponse>("diff", req);
            const C = provproto.DiffResponse.DiffChanges;
            const ch = resp.getChanges();
            return {
                changes: ch === C.DIFF_SOME ? "some" : ch === C.DIFF_NONE ? "none" : "unknown",
                replaces: resp.getReplacesList(),
                deleteBeforeReplace: resp.getDeletebeforereplace(),
                stables: resp.getStablesList(),
                diffs: resp.getDiffsList(),
            };
        },
        async create(u, inputs, o = {}) {
            const req = new provproto.CreateRequest();
            req.setUrn(u).setName(nameOf(u)).setType(typeOf(u)).setPreview(o.preview ?? false);
            req.setProperties(toStruct(inputs));
            const resp = await call<provproto.CreateRequest, provproto.CreateResponse>("create", req);
            return { id: resp.getId(), outs: fromStruct(resp.getProperties()) ?? {} };
        },
        async read(u, id, props, inputs) {
            const req = new provproto.ReadRequest();
            req.setUrn(u).setId(id).setName(nameOf(u)).setType(typeOf(u));
            req.setProperties(toStruct(props));
            if (inputs) req.setInputs(toStruct(inputs));
            const resp = await call<provproto.ReadRequest, provproto.ReadResponse>("read", req);
            return { id: resp.getId(), props: fromStruct(resp.getProperties()) ?? {}, inputs: fromStruct(resp.getInputs()) };
        },
        async update(u, id, olds, news, o = {}) {
            const req = new provproto.UpdateRequest();
            req.setUrn(u).setId(id).setName(nameOf(u)).setType(typeOf(u)).setPreview(o.preview ?? false);
            req.setOlds(toStruct(olds)).setNews(toStruct(news));
            const resp = await call<provproto.UpdateRequest, provproto.UpdateResponse>("update", req);
            return { outs: fromStruct(resp.getProperties()) ?? {} };
        },
        async delete(u, id, props) {
            const req = new provproto.DeleteRequest();
            req.setUrn(u).setId(id).setName(nameOf(u)).setType(typeOf(u));
            req.setProperties(toStruct(props));
            await call<provproto.DeleteRequest, Empty>("delete", req);
        },
        async stop() {
            client.close();
            if (child.exitCode === null && child.signalCode === null) {
                const exited = new Promise<void>((r) => child.once("exit", () => r()));
                child.kill("SIGKILL");
                await exited;
            }
        },
    };
    return host;
}
