/**
 * A namespace's own /etc files: `ip netns exec NS …` bind-mounts every file of `/etc/netns/NS/`
 * over the file of that name in `/etc` (so `/etc/netns/NS/resolv.conf` is the namespace's resolver,
 * `/etc/netns/NS/hosts` its hosts file). pulumi-netns writes them with its owner token on the first
 * line, and reads, rewrites or removes only files that carry it.
 */
import * as path from "path";
import type { Target } from "./target";
import { same } from "../core/diff";

/** Where `ip netns exec` looks for a namespace's /etc files. */
export const ETC_NETNS_DIR = "/etc/netns";

/** The files pulumi-netns writes there. */
export type EtcFile = "resolv.conf" | "hosts";

/** What `/etc/netns/NS/resolv.conf` says (see resolv.conf(5)). */
export interface Resolver {
    nameservers: string[];
    search: string[];
    options: string[];
}

/** `/etc/netns/NS/hosts`: address → names, in file order. */
export type Hosts = Record<string, string[]>;

/** The first line of every file pulumi-netns writes there: `# pulumi-netns:TOKEN …`. */
function markerLine(owner: string): string {
    return `# ${owner} wrote this file; edits are drift (pulumi refresh shows them, pulumi up undoes them)`;
}

const MARKER = /^# (pulumi-netns:[0-9a-f]{16})\b/;

/** The owner token on a file's first line; undefined when it has none. */
export function etcFileOwner(text: string): string | undefined {
    return MARKER.exec(text)?.[1];
}

/** The text of resolv.conf for `r`, marked as `owner`'s. */
export function renderResolvConf(r: Resolver, owner: string): string {
    return [
        markerLine(owner),
        ...r.nameservers.map((n) => `nameserver ${n}`),
        ...(r.search.length > 0 ? [`search ${r.search.join(" ")}`] : []),
        ...(r.options.length > 0 ? [`options ${r.options.join(" ")}`] : []),
    ].join("\n") + "\n";
}

/** What a resolv.conf says, as the resolver reads it (`domain` counts as `search`: the last of the two wins). */
export function parseResolvConf(text: string): Resolver {
    const r: Resolver = { nameservers: [], search: [], options: [] };
    for (const line of text.split("\n")) {
        const [key, ...words] = line.replace(/[#;].*$/, "").trim().split(/\s+/);
        if (key === "nameserver" && words[0]) r.nameservers.push(words[0]);
        else if (key === "search" || key === "domain") r.search = words;
        else if (key === "options") r.options.push(...words);
    }
    return r;
}

/**
 * The entries every hosts file needs so that `localhost` still resolves inside the namespace (the file
 * replaces /etc/hosts there), as Docker writes them; a declared entry for one of these addresses replaces it.
 */
export const LOCALHOST: Hosts = { "127.0.0.1": ["localhost"], "::1": ["localhost", "ip6-localhost", "ip6-loopback"] };

/** The text of a hosts file for `hosts` (after the {@link LOCALHOST} entries it does not override), marked as `owner`'s. */
export function renderHosts(hosts: Hosts, owner: string): string {
    const entries = { ...Object.fromEntries(Object.entries(LOCALHOST).filter(([a]) => !(a in hosts))), ...hosts };
    return [markerLine(owner), ...Object.entries(entries).map(([a, names]) => `${a}\t${names.join(" ")}`)].join("\n") + "\n";
}

/**
 * The entries of a hosts file, in file order, without the {@link LOCALHOST} entries that
 * {@link renderHosts} adds by itself (unless `declared` lists those addresses).
 */
export function parseHosts(text: string, declared: Hosts): Hosts {
    const hosts: Hosts = {};
    for (const line of text.split("\n")) {
        const [address, ...names] = line.replace(/#.*$/, "").trim().split(/\s+/);
        if (address && names.length > 0) hosts[address] = [...(hosts[address] ?? []), ...names];
    }
    for (const [a, names] of Object.entries(LOCALHOST)) {
        if (!(a in declared) && same(hosts[a], names)) delete hosts[a];
    }
    return hosts;
}

/** The folder `ip netns exec NS` takes /etc files from. */
export function etcDir(netns: string): string {
    return path.join(ETC_NETNS_DIR, netns);
}

/** A namespace's /etc file and who wrote it; undefined when there is none. Equivalent to: `cat /etc/netns/NS/FILE`. */
export async function readEtcFile(t: Target, netns: string, file: EtcFile): Promise<{ text: string; owner: string | undefined } | undefined> {
    const text = await t.readFile(path.join(etcDir(netns), file));
    return text === undefined ? undefined : { text, owner: etcFileOwner(text) };
}

/** Writes a namespace's /etc file (atomically, making the folder). Equivalent to: `mkdir -p /etc/netns/NS` and writing FILE. */
export async function writeEtcFile(t: Target, netns: string, file: EtcFile, text: string): Promise<void> {
    await t.writeFile(path.join(etcDir(netns), file), text);
}

/** Removes a namespace's /etc file; a missing one is success. Equivalent to: `rm -f /etc/netns/NS/FILE`. */
export async function removeEtcFile(t: Target, netns: string, file: EtcFile): Promise<void> {
    await t.removeFile(path.join(etcDir(netns), file));
}

/** True when the namespace's /etc folder exists. */
export async function etcDirExists(t: Target, netns: string): Promise<boolean> {
    return (await t.stat(etcDir(netns))) !== undefined;
}

/** Removes the namespace's /etc folder if it is empty (one that holds anything is left). Equivalent to: `rm -d /etc/netns/NS`. */
export async function removeEtcDirIfEmpty(t: Target, netns: string): Promise<void> {
    await t.removeEmptyDir(etcDir(netns));
}
