import { canonicalPrefix } from "../core/ip";
import { run, tryRun, CommandError } from "./exec";
import { ipIn } from "./netns";

/**
 * Lists a link's addresses as "address/prefix", leaving out IPv6 link-local addresses the
 * kernel adds by itself. Equivalent to: `ip [-n NS] -json address show dev NAME`.
 */
export async function listAddrs(dev: string, netns?: string): Promise<string[]> {
    const r = await run([...ipIn(netns), "-json", "address", "show", "dev", dev]);
    const [j] = JSON.parse(r.stdout) as any[];
    return ((j?.addr_info ?? []) as any[])
        .filter((a) => !(a.family === "inet6" && a.scope === "link"))
        .map((a) => `${a.local}/${a.prefixlen}`);
}

/** Adds an address. Equivalent to: `ip [-n NS] address add CIDR dev NAME`. */
export async function addAddr(dev: string, cidr: string, netns?: string): Promise<void> {
    await run([...ipIn(netns), "address", "add", cidr, "dev", dev]);
}

/** Removes an address; one already gone is success. Equivalent to: `ip [-n NS] address delete CIDR dev NAME`. */
export async function deleteAddr(dev: string, cidr: string, netns?: string): Promise<void> {
    const argv = [...ipIn(netns), "address", "delete", cidr, "dev", dev];
    const r = await tryRun(argv);
    if (r.exitCode !== 0 && !/Cannot assign requested address|does not exist|Cannot find device/.test(r.stderr)) {
        throw new CommandError(argv, r.exitCode, r.stdout, r.stderr);
    }
}

/**
 * Makes a link's addresses exactly `wanted` (compared in the kernel's canonical form):
 * adds the missing ones and removes the others.
 */
export async function syncAddrs(dev: string, wanted: string[], netns?: string): Promise<void> {
    const want = wanted.map(canonicalPrefix);
    const have = await listAddrs(dev, netns);
    for (const a of have) if (!want.includes(a)) await deleteAddr(dev, a, netns);
    for (const a of want) if (!have.includes(a)) await addAddr(dev, a, netns);
}
