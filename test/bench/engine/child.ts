/**
 * Engine double, child process: runs one Pulumi program (`up` or `preview`) under a mock
 * resource monitor that forwards every dynamic resource to the real dynamic-provider host.
 * Usage: node -r ts-node/register child.ts REQUEST.json RESULT.json (see stack.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { startHost, type Host, type Props } from "../../helpers/host";
import { Deployment, plain, type Registration, type StackState, type Step } from "./engine";

/** What the parent sends. */
export interface ChildRequest {
    programDir: string;
    project: string;
    stack: string;
    /** "project:key" → string value. */
    config: Record<string, string>;
    preview: boolean;
    state: StackState;
    /** No provider: a stand-in host answers at once and runs nothing (what the Pulumi runtime and this double cost by themselves). */
    runtimeOnly?: boolean;
}

/** What the child writes back. */
export interface ChildResult {
    state: StackState;
    steps: Step[];
    outputs: Props;
    error?: string;
    /** Peak resident memory of the dynamic-provider host (kB). */
    hostPeakRssKb?: number;
}

const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

interface Pb { toJavaScript(): Props }
/** The subset of RegisterResourceRequest we read. */
interface RegisterReq {
    getType(): string;
    getName(): string;
    getParent(): string;
    getCustom(): boolean;
    getObject(): Pb | undefined;
    getDependenciesList(): string[];
    getDeletedwith(): string;
    getPropertydependenciesMap(): { forEach(cb: (v: { getUrnsList(): string[] }, k: string) => void): void };
}
type Callback = (err: Error | null, resp?: unknown) => void;

/** Stands in for the provider host, running nothing: check passes the inputs, diff sees no change, create echoes them. */
function echoHost(): Host {
    const unsupported = () => Promise.reject(new Error("not supported in a runtime-only run"));
    return {
        pid: 0, port: 0, stderr: () => "", peakRssKb: () => 0, rssKb: () => 0,
        check: async (_urn, _olds, news) => ({ inputs: news, failures: [] }),
        diff: async () => ({ changes: "none", replaces: [], deleteBeforeReplace: false, stables: [], diffs: [] }),
        create: async (urn, inputs) => ({ id: urn.split("::").pop()!, outs: inputs }),
        read: unsupported, update: unsupported, delete: unsupported, stop: async () => undefined,
    };
}

async function main(): Promise<void> {
    const [reqFile, resFile] = process.argv.slice(2);
    const req = JSON.parse(fs.readFileSync(reqFile, "utf8")) as ChildRequest;
    // The provider host starts (a process of its own) while this one loads the Pulumi runtime, as the engine does.
    const hostStarting = req.runtimeOnly ? Promise.resolve(echoHost()) : startHost();
    const unhandled: unknown[] = [];
    process.on("unhandledRejection", (e) => unhandled.push(e));

    // The program's own @pulumi/pulumi instance (the one its resources register through).
    const pulumiDir = path.dirname(require.resolve("@pulumi/pulumi/package.json", { paths: [req.programDir] }));
    const pulumi = require(pulumiDir) as typeof import("@pulumi/pulumi");
    const settings = require(path.join(pulumiDir, "runtime", "settings")) as
        typeof import("@pulumi/pulumi/runtime/settings") & { waitForRPCs(): Promise<void> }; // waitForRPCs is @internal
    const { MockMonitor } = require(path.join(pulumiDir, "runtime", "mocks")) as typeof import("@pulumi/pulumi/runtime/mocks");
    const { getStore } = require(path.join(pulumiDir, "runtime", "state")) as { getStore(): Record<string, unknown> };
    const resproto = require(path.join(pulumiDir, "proto", "resource_pb")) as typeof import("@pulumi/pulumi/proto/resource_pb");
    const { Struct } = require(require.resolve("google-protobuf/google/protobuf/struct_pb", { paths: [pulumiDir] })) as
        typeof import("google-protobuf/google/protobuf/struct_pb");

    const host = await hostStarting;
    const deployment = new Deployment(host, req.state, req.preview);
    const types = new Map<string, string>(); // urn → type (for child URNs)
    let rootUrn = "";
    let stackOutputs: Props | undefined;

    /** URN as the engine builds it: the parent's type chain, except the root stack's, prefixes the type. */
    const newUrn = (parent: string, type: string, name: string) => {
        const pt = parent ? parent.split("::")[2] : "";
        const qualified = pt && types.get(parent) !== ROOT_STACK_TYPE ? `${pt}$${type}` : type;
        return `urn:pulumi:${req.stack}::${req.project}::${qualified}::${name}`;
    };

    class Monitor extends MockMonitor {
        constructor() {
            super({ newResource: () => { throw new Error("unused"); }, call: () => { throw new Error("invokes are not supported"); } });
        }
        async registerResource(r: RegisterReq, cb: Callback): Promise<void> {
            const urn = newUrn(r.getParent(), r.getType(), r.getName());
            types.set(urn, r.getType());
            if (r.getType() === ROOT_STACK_TYPE) rootUrn = urn;
            const deps = new Set(r.getDependenciesList());
            const propertyDependencies: Record<string, string[]> = {};
            r.getPropertydependenciesMap().forEach((v, k) => {
                propertyDependencies[k] = v.getUrnsList();
                v.getUrnsList().forEach((u) => deps.add(u));
            });
            const reg: Registration = {
                urn, type: r.getType(), name: r.getName(), custom: r.getCustom(), parent: r.getParent() || undefined,
                dependencies: [...deps], propertyDependencies, deletedWith: r.getDeletedwith() || undefined, inputs: r.getObject()?.toJavaScript() ?? {},
            };
            await deployment.register(reg).then(({ id, object }) => {
                const resp = new resproto.RegisterResourceResponse();
                resp.setUrn(urn);
                resp.setId(id);
                resp.setObject(Struct.fromJavaScript(object as Record<string, never>));
                cb(null, resp);
            }, (e: Error) => cb(e));
        }
        registerResourceOutputs(r: { getUrn(): string; getOutputs(): Pb | undefined }, cb: Callback): void { // stack outputs only
            if (r.getUrn() === rootUrn) stackOutputs = plain(r.getOutputs()?.toJavaScript() ?? {}) as Props;
            cb(null, {});
        }
    }

    settings.setMockOptions(new Monitor(), req.project, req.stack, req.preview);
    Object.assign(getStore(), { // what setMocks enables
        supportsSecrets: true, supportsResourceReferences: true, supportsOutputValues: false, supportsDeletedWith: true,
        supportsAliasSpecs: true, supportsTransforms: false,
    });
    pulumi.runtime.setAllConfig(req.config);

    let programError: unknown;
    const program = pulumi.runtime.runInPulumiStack(async () => {
        const mod = require(req.programDir) as { default?: unknown };
        return typeof mod.default === "function" ? await (mod.default as () => unknown)() : mod;
    });
    // Wait for the program and its RPCs; after a failure, give the rest a moment to settle.
    const settled = program.then(() => settings.waitForRPCs(), (e: unknown) => { programError = e; });
    await new Promise<void>((resolve) => {
        const poll = setInterval(() => {
            if (deployment.errors.length > 0) { clearInterval(poll); setTimeout(resolve, 2000); }
        }, 50);
        settled.then(() => { clearInterval(poll); resolve(); });
    });
    await deployment.drain();

    const errors: unknown[] = [...deployment.errors];
    if (errors.length === 0 && programError !== undefined) errors.push(programError);
    if (errors.length === 0 && unhandled.length > 0) errors.push(unhandled[0]);
    if (errors.length === 0) await deployment.finish().catch((e: unknown) => errors.push(e));
    const result: ChildResult = {
        state: deployment.state(errors.length === 0 ? stackOutputs : undefined),
        steps: deployment.steps,
        outputs: stackOutputs ?? {},
        error: errors.length > 0 ? errors.map((e) => (e instanceof Error ? e.message : String(e))).join("\n") : undefined,
        hostPeakRssKb: host.peakRssKb(),
    };
    fs.writeFileSync(resFile, JSON.stringify(result));
    await host.stop();
}

main().then(() => process.exit(0), (e: unknown) => {
    console.error(e instanceof Error ? e.stack : e);
    process.exit(1);
});
