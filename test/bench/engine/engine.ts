/**
 * Engine double, core: the step logic of `pulumi up` / `preview` / `refresh` / `destroy`
 * applied to registrations, driving the real dynamic-provider host (test/helpers/host.ts).
 * Shared by the child process (up/preview run a program) and the parent (refresh/destroy).
 *
 * Checked against the real engine (test/e2e/). A delete-before-replace replaces the dependents
 * whose diff says so when the inputs that come from a replaced resource are unknown, deleting them
 * first, dependents first, as the engine's `calculateDependentReplacements` does
 * (pkg/resource/deploy/step_generator.go); e.g. a route in a namespace whose veth is re-made.
 */
import * as os from "os";
import { isDeepStrictEqual } from "util";
import type { Host, Props } from "../../helpers/host";
import { limiter, type Gate } from "../../../provider/linux/target";
import { UNKNOWN } from "../../../provider/core/schema";

export type Op = "create" | "update" | "replace" | "delete" | "same" | "refresh" | "drift" | "gone";

/** One step the engine planned (preview) or performed. */
export interface Step {
    op: Op;
    urn: string;
    type: string;
    name: string;
    /** Properties forcing a replacement (op "replace"). */
    replaces?: string[];
    /** Output properties that changed (op "drift"). */
    diffs?: string[];
}

/** One resource in the stack state. Components (custom=false) are never sent to the host. */
export interface ResourceState {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    id: string;
    /** Checked inputs (incl. `__provider` for dynamic resources). */
    inputs: Props;
    /** Provider outputs (what the program sees). */
    outputs: Props;
    /** URNs this resource depends on (dependencies ∪ propertyDependencies). */
    dependencies: string[];
    /** Input key → the URNs its value came from. */
    propertyDependencies?: Record<string, string[]>;
    parent?: string;
    /** The `deletedWith` resource option: when that resource is deleted in the same operation, this one's delete is not sent to the provider. */
    deletedWith?: string;
}

export interface StackState {
    resources: Record<string, ResourceState>;
    /** Stack outputs of the last successful `up`. */
    outputs: Props;
    /** Old copies of create-before-delete replacements not deleted yet (a failed `up`). */
    pendingDeletes: ResourceState[];
}

export const emptyState = (): StackState => ({ resources: {}, outputs: {}, pendingDeletes: [] });

/** The engine's default parallelism: 4 × CPUs operations in flight. */
export const PARALLEL = 4 * os.cpus().length;

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const SECRET_VALUE = "1b47061264138c4ac30d75fd1eb44270";

/** Unwraps secret envelopes (the dynamic host does not accept secrets, so the engine strips them). */
export function plain(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(plain);
    if (v !== null && typeof v === "object") {
        const o = v as Props;
        if (o[SECRET_SIG] === SECRET_VALUE) return plain(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, plain(x)]));
    }
    return v;
}

export const isDynamic = (type: string) => type.startsWith("pulumi-nodejs:dynamic/");

function opError(what: string, r: { name: string; type: string }, err: unknown): Error {
    return new Error(`${what} ${r.name} (${r.type}): ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Deletes `items` dependents first (a resource goes only once nothing left in the set depends on it
 * or has it as parent), in waves of at most PARALLEL host calls. Components need no host call, nor
 * does a resource whose `deletedWith` resource is among `items` (the engine's rule: it goes with
 * that one). Calls `done` per deleted item; stops after the first failing wave and throws.
 */
export async function deleteInOrder(host: Host, items: ResourceState[], steps: Step[], done: (r: ResourceState) => void,
    limit: Gate = limiter(PARALLEL)): Promise<void> {
    let left = [...items];
    const deleting = new Set(items.map((r) => r.urn));
    while (left.length > 0) {
        const needed = new Set(left.flatMap((r) => [...r.dependencies, ...(r.parent ? [r.parent] : [])]));
        let wave = left.filter((r) => !needed.has(r.urn));
        if (wave.length === 0) wave = left; // a cycle (cannot happen with real programs): delete the rest
        const results = await Promise.allSettled(wave.map((r) => limit(async () => {
            if (r.custom && !(r.deletedWith && deleting.has(r.deletedWith))) {
                try {
                    await host.delete(r.urn, r.id, r.outputs);
                } catch (e) {
                    throw opError("delete", r, e);
                }
            }
            steps.push({ op: "delete", urn: r.urn, type: r.type, name: r.name });
            done(r);
        })));
        const failed = results.find((x): x is PromiseRejectedResult => x.status === "rejected");
        if (failed) throw failed.reason;
        left = left.filter((r) => !wave.includes(r));
    }
}

/** The resources with each after those it depends on (a cycle, impossible in real programs, keeps the given order). */
function dependencyOrder(items: ResourceState[]): ResourceState[] {
    const byUrn = new Map(items.map((r) => [r.urn, r]));
    const out: ResourceState[] = [];
    const seen = new Set<string>();
    const visit = (r: ResourceState) => {
        if (seen.has(r.urn)) return;
        seen.add(r.urn);
        for (const d of r.dependencies) if (byUrn.has(d)) visit(byUrn.get(d)!);
        out.push(r);
    };
    items.forEach(visit);
    return out;
}

/** One RegisterResource request, decoded. `inputs` is the raw property struct (unknown sentinels kept). */
export interface Registration {
    urn: string;
    type: string;
    name: string;
    custom: boolean;
    parent?: string;
    dependencies: string[];
    propertyDependencies?: Record<string, string[]>;
    deletedWith?: string;
    inputs: Props;
}

/** The steps of one `up` or `preview`: feed it registrations, then call finish(). */
export class Deployment {
    readonly steps: Step[] = [];
    /** Failures (check failures, provider errors); after the first, new registrations are refused. */
    readonly errors: Error[] = [];
    private readonly registered = new Map<string, ResourceState>();
    private readonly deleted = new Set<ResourceState>();
    private readonly replaced: ResourceState[] = [];
    /** Prior resources deleted (or, in a preview, to be deleted) first as dependents of a delete-before-replace: made anew when registered. */
    private readonly condemned = new Set<string>();
    private readonly limit = limiter(PARALLEL);
    private readonly inFlight = new Set<Promise<unknown>>();

    constructor(private readonly host: Host, private readonly prior: StackState, readonly preview: boolean) {}

    /** Handles one registration; resolves the id and the properties the program sees. */
    register(r: Registration): Promise<{ id: string; object: Props }> {
        const p = this.step(r).catch((e: unknown) => {
            const err = e instanceof Error ? e : new Error(String(e));
            if (!/^skipped:/.test(err.message)) this.errors.push(err);
            throw err;
        });
        this.inFlight.add(p);
        const forget = () => this.inFlight.delete(p);
        p.then(forget, forget);
        return p;
    }

    /** Resolves once no registration is being processed. */
    async drain(): Promise<void> {
        while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
    }

    private async step(r: Registration): Promise<{ id: string; object: Props }> {
        if (this.registered.has(r.urn)) throw new Error(`duplicate resource URN ${r.urn}`);
        const old = this.condemned.has(r.urn) ? undefined : this.prior.resources[r.urn];
        const base = { urn: r.urn, type: r.type, name: r.name, custom: r.custom, dependencies: r.dependencies, propertyDependencies: r.propertyDependencies, parent: r.parent, deletedWith: r.deletedWith };
        const record = (op: Op, s: ResourceState, extra: Partial<Step> = {}) => {
            this.steps.push({ op, urn: r.urn, type: r.type, name: r.name, ...extra });
            this.registered.set(r.urn, s);
            return { id: s.id, object: s.outputs };
        };
        if (!r.custom) {
            // Components: recorded only (outputs come later via RegisterResourceOutputs).
            return record(old ? "same" : "create", { ...base, id: "", inputs: r.inputs, outputs: old?.outputs ?? r.inputs });
        }
        if (!isDynamic(r.type)) throw new Error(`engine double supports only dynamic resources, not ${r.type} (${r.name})`);
        return this.limit(async () => {
            if (this.errors.length > 0) throw new Error(`skipped: ${r.name} (an earlier step failed)`);
            const news = plain(r.inputs) as Props;
            const chk = await this.host.check(r.urn, old?.inputs ?? {}, news).catch((e) => { throw opError("check", r, e); });
            if (chk.failures.length > 0) {
                throw new Error(`check failed for ${r.name} (${r.type}): ` +
                    chk.failures.map((f) => `${f.property}: ${f.reason}`).join("; "));
            }
            const inputs = chk.inputs;
            const create = async (op: Op, extra: Partial<Step> = {}) => {
                if (this.preview) return record(op, { ...base, id: "", inputs, outputs: inputs }, extra);
                const c = await this.host.create(r.urn, inputs).catch((e) => { throw opError("create", r, e); });
                return record(op, { ...base, id: c.id, inputs, outputs: c.outs }, extra);
            };
            if (!old) return create(this.condemned.has(r.urn) ? "replace" : "create");
            const d = await this.host.diff(r.urn, old.id, old.outputs, inputs).catch((e) => { throw opError("diff", r, e); });
            const changed = d.changes === "some" || (d.changes === "unknown" && !isDeepStrictEqual(old.inputs, inputs));
            if (!changed) return record("same", { ...base, id: old.id, inputs, outputs: old.outputs });
            if (d.replaces.length > 0) {
                if (!d.deleteBeforeReplace) {
                    if (!this.preview) this.replaced.push(old);
                    return create("replace", { replaces: d.replaces });
                }
                const dependents = await this.dependentReplacements(old);
                for (const dep of dependents) this.condemned.add(dep.urn);
                if (this.preview) return create("replace", { replaces: d.replaces });
                for (const gone of [...dependents.reverse(), old]) {
                    await this.host.delete(gone.urn, gone.id, gone.outputs).catch((e) => { throw opError("delete", gone, e); });
                    this.deleted.add(gone);
                }
                return create("replace", { replaces: d.replaces });
            }
            if (this.preview) return record("update", { ...base, id: old.id, inputs, outputs: inputs });
            const u = await this.host.update(r.urn, old.id, old.outputs, inputs).catch((e) => { throw opError("update", r, e); });
            return record("update", { ...base, id: old.id, inputs, outputs: u.outs });
        });
    }

    /**
     * The prior resources a delete-before-replace of `root` replaces too, in dependency order: those
     * whose diff replaces when every input whose value came from `root` (or from another of them) is unknown.
     */
    private async dependentReplacements(root: ResourceState): Promise<ResourceState[]> {
        const replacing = new Set([root.urn]);
        const found: ResourceState[] = [];
        for (const r of dependencyOrder(Object.values(this.prior.resources))) {
            if (!r.custom || replacing.has(r.urn)) continue;
            const keys = Object.entries(r.propertyDependencies ?? {}).filter(([, urns]) => urns.some((u) => replacing.has(u))).map(([k]) => k);
            if (keys.length === 0) continue;
            const news = { ...r.inputs, ...Object.fromEntries(keys.map((k) => [k, UNKNOWN])) };
            const d = await this.host.diff(r.urn, r.id, r.outputs, news).catch((e) => { throw opError("diff", r, e); });
            if (d.replaces.length === 0) continue;
            replacing.add(r.urn);
            found.push(r);
        }
        return found;
    }

    /**
     * After the program: deletes (or, in a preview, plans deleting) the old copies of replaced
     * resources and every resource of the prior state that was not registered, dependents first.
     */
    async finish(): Promise<void> {
        const gone = [
            ...this.prior.pendingDeletes,
            ...this.replaced,
            ...Object.values(this.prior.resources).filter((r) => !this.registered.has(r.urn) && !this.deleted.has(r)),
        ];
        if (this.preview) {
            for (const r of gone) this.steps.push({ op: "delete", urn: r.urn, type: r.type, name: r.name });
            return;
        }
        await deleteInOrder(this.host, gone, this.steps, (r) => this.deleted.add(r), this.limit);
    }

    /** The state after this deployment (the prior state for a preview). */
    state(outputs: Props | undefined): StackState {
        if (this.preview) return this.prior;
        const resources: Record<string, ResourceState> = {};
        for (const [urn, s] of this.registered) resources[urn] = s;
        for (const [urn, s] of Object.entries(this.prior.resources)) {
            if (!(urn in resources) && !this.deleted.has(s)) resources[urn] = s;
        }
        const pendingDeletes = [...this.prior.pendingDeletes, ...this.replaced].filter((s) => !this.deleted.has(s));
        return { resources, outputs: outputs ?? this.prior.outputs, pendingDeletes };
    }
}

/** `pulumi refresh`: Read every custom resource; gone ones leave the state, drifted ones get the new outputs. */
export async function refresh(host: Host, state: StackState): Promise<{ steps: Step[]; state: StackState }> {
    const steps: Step[] = [];
    const resources: Record<string, ResourceState> = { ...state.resources };
    const limit = limiter(PARALLEL);
    await Promise.all(Object.values(state.resources).filter((r) => r.custom).map((r) => limit(async () => {
        const got = await host.read(r.urn, r.id, r.outputs, r.inputs).catch((e) => { throw opError("read", r, e); });
        const step = (op: Op, diffs?: string[]) => steps.push({ op, urn: r.urn, type: r.type, name: r.name, ...(diffs ? { diffs } : {}) });
        if (got.id === "") {
            delete resources[r.urn];
            step("gone");
        } else if (!isDeepStrictEqual(got.props, r.outputs)) {
            resources[r.urn] = { ...r, id: got.id, outputs: got.props, inputs: got.inputs ?? r.inputs };
            const keys = [...new Set([...Object.keys(r.outputs), ...Object.keys(got.props)])];
            step("drift", keys.filter((k) => !isDeepStrictEqual(r.outputs[k], got.props[k])).sort());
        } else step("refresh");
    })));
    return { steps, state: { ...state, resources } };
}

/**
 * The provider's part of an `up` from nothing, without the program: Check and Create for every
 * custom resource of `state` from the inputs recorded in it, each once its dependencies exist, at
 * most PARALLEL at once (the engine's schedule). For the benchmark: `state` is that of an earlier
 * `up`, destroyed since; returns it with the new ids and outputs of what was made, and the first error.
 */
export async function replayCreates(host: Host, state: StackState): Promise<{ state: StackState; error?: Error }> {
    const limit = limiter(PARALLEL);
    const made = new Map<string, Promise<void>>();
    const resources: Record<string, ResourceState> = {}; // what was made (components count as made)
    const make = (r: ResourceState): Promise<void> => {
        let p = made.get(r.urn);
        if (!p) {
            p = (async () => {
                await Promise.all(r.dependencies.filter((d) => d in state.resources).map((d) => make(state.resources[d])));
                if (!r.custom) {
                    resources[r.urn] = r;
                    return;
                }
                await limit(async () => {
                    const chk = await host.check(r.urn, {}, r.inputs);
                    if (chk.failures.length > 0) throw new Error(`check failed for ${r.name}: ${JSON.stringify(chk.failures)}`);
                    const c = await host.create(r.urn, chk.inputs).catch((e) => { throw opError("create", r, e); });
                    resources[r.urn] = { ...r, id: c.id, outputs: c.outs };
                });
            })();
            made.set(r.urn, p);
        }
        return p;
    };
    const failed = (await Promise.allSettled(Object.values(state.resources).map(make))).find((x): x is PromiseRejectedResult => x.status === "rejected");
    return { state: { ...state, resources }, error: failed?.reason };
}

/** `pulumi destroy`: deletes everything, dependents first. On failure the survivors stay in the state. */
export async function destroy(host: Host, state: StackState): Promise<{ steps: Step[]; state: StackState; error?: Error }> {
    const steps: Step[] = [];
    const deleted = new Set<ResourceState>();
    let error: Error | undefined;
    await deleteInOrder(host, [...state.pendingDeletes, ...Object.values(state.resources)], steps, (r) => deleted.add(r))
        .catch((e: Error) => (error = e));
    const resources = Object.fromEntries(Object.entries(state.resources).filter(([, r]) => !deleted.has(r)));
    const done = Object.keys(resources).length === 0;
    return { steps, error, state: { resources, outputs: done ? {} : state.outputs, pendingDeletes: state.pendingDeletes.filter((r) => !deleted.has(r)) } };
}
