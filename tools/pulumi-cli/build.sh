#!/usr/bin/env bash
# Builds the pinned Pulumi CLI from the Go module proxy into a cache outside the checkout, or reuses
# the build already there, and prints the directory holding it (the only line on stdout):
#
#   pulumi                          the CLI, github.com/pulumi/pulumi/pkg/v3/cmd/pulumi at v3.248.0
#   pulumi-language-nodejs          the Node.js language host (see language-nodejs/go.mod for its version)
#   pulumi-resource-pulumi-nodejs   the dynamic-provider plugin: node on @pulumi/pulumi/cmd/dynamic-provider
#   pulumi-language-yaml            the YAML language host: github.com/pulumi/pulumi-yaml, see language-yaml/go.mod
#   pulumi-language-python          the Python language host: sdk/v3, see language-python/go.mod, with
#   pulumi-language-python-exec       the script it runs programs through (`python <it> ...`), from the same module
#
# The CLI finds the plugins next to its own executable. Progress goes to stderr: a first build
# downloads several hundred modules and compiles for minutes on two cores.
#
#   bin="$(bash tools/pulumi-cli/build.sh)" && "$bin/pulumi" version
#
# A Python program needs the `pulumi` package where the host's python runs: tools/pulumi-cli/python.sh
# makes a pinned virtualenv and prints its folder; put its bin/ first on PATH when running pulumi (the
# Python host here, of sdk v3.79.0, does not get Pulumi.yaml's runtime option `virtualenv` from this CLI).
#
# The cache key of the directory is a hash of the CLI's and the Node.js host's go.mod/go.sum files,
# RECIPE below and the Go version, so a change to any of them builds anew next to the old build
# (delete old ones by hand). The YAML and Python hosts are not in that key: each is built into the
# directory when it is missing there, or when its stamp (.pulumi-language-NAME.stamp: a hash of its
# own module's go.mod/go.sum, HOST_RECIPE and the Go version) differs, so adding or changing a host
# never rebuilds the CLI. A host that cannot be built is reported on stderr and left out (exit 0,
# the directory printed all the same), so that the CLI and the Node.js host stay usable: a caller
# that needs a host checks that it is there (test -x "$bin/pulumi-language-yaml").
#
# With --reuse-only it never builds: it prints the directory if the CLI is in the cache, else exits
# 1. A host missing there, or built from other go.mod/go.sum files, is then only named on stderr:
# the directory is printed as it is, and callers check for the host they need.
#
# PULUMI_NETNS_CLI_CACHE overrides the cache (default ${XDG_CACHE_HOME:-~/.cache}/pulumi-netns/pulumi-cli).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
VERSION=v3.248.0
RECIPE=1      # bump when the build steps below change what is built for the CLI, the Node.js host or the plugin
HOST_RECIPE=1 # bump when they change what is built for the YAML and Python hosts (rebuilds only those)
say() { printf 'pulumi-cli: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
reuse_only=0
[[ "${1:-}" == --reuse-only ]] && reuse_only=1

export PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || fail "Go is needed to build the Pulumi CLI from the module proxy, and 'go' is not on PATH (Debian: apt-get install golang-go, or Go 1.25+ from go.dev), or install the Pulumi CLI (https://www.pulumi.com/docs/install/) and put it on PATH"
# The machine's own Go, never a toolchain download; the modules' checksums are in go.sum.
export GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"

key="$(cat "$HERE/go.mod" "$HERE/go.sum" "$HERE/language-nodejs/go.mod" "$HERE/language-nodejs/go.sum" \
    <(echo "$RECIPE") <(go version) | sha256sum | cut -c1-12)"
cache="${PULUMI_NETNS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-netns/pulumi-cli}"
out="$cache/$VERSION-$key"

# The dynamic-provider plugin: the engine starts it in the project's folder (its `main`, else the
# folder of Pulumi.yaml) with the engine's address as argument; it runs the dynamic-provider host of
# the @pulumi/pulumi found from there. A script, not compiled: a build in the cache gets this one's
# text when it differs (below), without a new build.
plugin_script() {
    cat <<'EOF'
#!/bin/sh
# Pulumi's dynamic-provider plugin, as built by pulumi-netns tools/pulumi-cli/build.sh.
host="$(node -e 'process.stdout.write(require.resolve("@pulumi/pulumi/cmd/dynamic-provider"))')" || {
    echo "pulumi-resource-pulumi-nodejs: @pulumi/pulumi is not installed where Pulumi runs dynamic providers ($PWD: the project's main, else the folder of its Pulumi.yaml): run npm install there." \
        "An Automation API inline program's main is the process's working directory unless LocalWorkspace.createOrSelectStack(...) is given" \
        "projectSettings: { name, runtime: \"nodejs\", main: <a folder whose node_modules holds @pulumi/pulumi> } (workDir alone does not change it)" >&2
    exit 1
}
exec node "$host" "$@"
EOF
}

start=$SECONDS
elapsed() { printf '%dm%02ds' $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60)); }
tmp="" # the folder a build writes into, removed when the script ends before renaming it into place
trap '[[ -z "$tmp" ]] || rm -rf "$tmp"' EXIT

# Runs `go ARGS` in module DIR, printing a line every 15 s: how many modules arrived (`-x` logs one
# `# get` per file fetched) or packages compiled (`-v` names each), out of TOTAL when known. On failure
# it prints the end of go's output and returns 1.
progress() {
    local what="$1" total="$2" dir="$3"; shift 3
    local log="$tmp/go.log" rc=0
    : >"$log"
    (cd "$dir" && go "$@" >"$log" 2>&1) &
    local pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        sleep 1
        if (((SECONDS - start) % 15 == 0)); then
            local n
            if [[ "$1" == mod ]]; then n="$(grep -c '^# get .*200 OK' "$log" || true)"; else n="$(grep -cv '^#\|^go: \|^$' "$log" || true)"; fi
            say "  $what: $n${total:+ of $total} ($(elapsed))"
        fi
    done
    wait "$pid" || rc=$?
    if [[ $rc -ne 0 ]]; then
        grep -v '^# get\|^github.com/\|^golang.org/\|^google.golang.org/\|^gopkg.in/' "$log" | tail -30 >&2
        say "\`go $*\` failed in $dir (exit $rc) after $(elapsed); the lines above say why"
        return 1
    fi
    rm -f "$log"
}

# Builds MAIN_PACKAGE of the module in MODULE_DIR into OUTPUT, with VERSION_VARIABLE set to VERSION
# (as Pulumi's releases are built); returns 1 when a step fails.
build() { # MODULE_DIR MAIN_PACKAGE VERSION_VARIABLE VERSION OUTPUT
    local dir="$1" pkg="$2" var="$3" version="$4" bin="$5" name total
    name="$(basename "$bin")"
    say "[$name] downloading modules ($(elapsed))"
    progress "modules fetched" "" "$dir" mod download -x || return 1
    total="$(cd "$dir" && go list -deps "$pkg" | wc -l)" || return 1
    say "[$name] compiling $total packages ($(elapsed))"
    progress "packages compiled" "$total" "$dir" build -v -trimpath \
        -ldflags "-s -w -X $var=$version" -o "$bin" "$pkg" || return 1
    say "[$name] built ($(elapsed))"
}
SDK_VERSION_VARIABLE=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version

if [[ -x "$out/pulumi" && -x "$out/pulumi-language-nodejs" && -x "$out/pulumi-resource-pulumi-nodejs" ]] \
    && PULUMI_SKIP_UPDATE_CHECK=true "$out/pulumi" version >/dev/null 2>&1; then
    if ! cmp -s <(plugin_script) "$out/pulumi-resource-pulumi-nodejs"; then
        # Written beside it, then renamed over it: a plugin starting meanwhile runs the old or the new one, whole.
        if plugin_script >"$out/.plugin.$$" && chmod 755 "$out/.plugin.$$" && mv -f "$out/.plugin.$$" "$out/pulumi-resource-pulumi-nodejs"; then
            say "updated the dynamic-provider plugin script in $out"
        else
            rm -f "$out/.plugin.$$"
            say "could not update the dynamic-provider plugin script in $out (kept the one there)"
        fi
    fi
    say "reusing the Pulumi CLI $VERSION built in $out"
else
    [[ $reuse_only -eq 1 ]] && exit 1
    say "building the Pulumi CLI $VERSION into $out ($(go version | cut -d' ' -f3); a first build takes several minutes)"
    mkdir -p "$cache"
    tmp="$(mktemp -d "$out.build.XXXXXX")"

    build "$HERE" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$SDK_VERSION_VARIABLE" "$VERSION" "$tmp/pulumi" || exit 1
    langhost="$(sed -n 's|^require github.com/pulumi/pulumi/sdk/v3 \(v[^ ]*\)$|\1|p' "$HERE/language-nodejs/go.mod")"
    build "$HERE/language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs \
        "$SDK_VERSION_VARIABLE" "$langhost" "$tmp/pulumi-language-nodejs" || exit 1

    plugin_script >"$tmp/pulumi-resource-pulumi-nodejs"
    chmod 755 "$tmp"/*

    PULUMI_SKIP_UPDATE_CHECK=true "$tmp/pulumi" version >/dev/null || fail "the freshly built pulumi does not run"
    rm -rf "$out"
    mv "$tmp" "$out"
    tmp=""
    say "built the Pulumi CLI $VERSION in $(elapsed): $out"
fi

# The YAML and Python language hosts, each from a module of its own (language-NAME/), outside the
# cache key: see the header. The stamp of a current build: a hash of what it was built from.
host_stamp() { # NAME
    cat "$HERE/language-$1/go.mod" "$HERE/language-$1/go.sum" <(echo "$HOST_RECIPE") <(go version) | sha256sum | cut -c1-12
}
host_state() { # NAME [FILE...]: prints current, missing or stale
    local name="$1" f; shift
    for f in "pulumi-language-$name" "$@"; do [[ -x "$out/$(basename "$f")" ]] || { echo missing; return; }; done
    if [[ "$(cat "$out/.pulumi-language-$name.stamp" 2>/dev/null)" == "$(host_stamp "$name")" ]]; then echo current; else echo stale; fi
}
# Builds host NAME from MODULE's MAIN_PACKAGE (its version: the `require MODULE vX` line of
# language-NAME/go.mod) in a folder of its own inside $out, copies FILEs (paths inside MODULE) beside
# it, then renames them into $out one by one: the FILEs first, then the host, then its stamp, so a
# host in place has its files beside it, and a stamp never names a host that is not there whole.
build_host() { # NAME MODULE MAIN_PACKAGE VERSION_VARIABLE [FILE...]
    local name="$1" module="$2" pkg="$3" var="$4"; shift 4
    local dir="$HERE/language-$name" bin="pulumi-language-$name" version moddir stamp f
    version="$(sed -n "s|^require $module \(v[^ ]*\)\$|\1|p" "$dir/go.mod")"
    [[ -n "$version" ]] || { say "[$bin] no \`require $module vX\` line in $dir/go.mod"; return 1; }
    stamp="$(host_stamp "$name")"
    start=$SECONDS
    say "[$bin] building it from $module $version into $out"
    tmp="$(mktemp -d "$out/.build-$name.XXXXXX")" || return 1
    build "$dir" "$pkg" "$var" "$version" "$tmp/$bin" || return 1
    # Go's flag package answers -help with its usage and exit 0: the binary runs.
    "$tmp/$bin" -help >/dev/null 2>&1 || { say "[$bin] the freshly built host does not run"; return 1; }
    moddir="$(cd "$dir" && go list -m -f '{{.Dir}}' "$module")" || return 1
    for f in "$@"; do cp "$moddir/$f" "$tmp/" || return 1; done
    chmod 755 "$tmp"/* || return 1
    echo "$stamp" >"$tmp/stamp" || return 1
    for f in "$@"; do mv -f "$tmp/$(basename "$f")" "$out/" || return 1; done
    mv -f "$tmp/$bin" "$out/$bin" && mv -f "$tmp/stamp" "$out/.$bin.stamp" || return 1
    rm -rf "$tmp"
    tmp=""
    say "[$bin] built $module $version in $(elapsed): $out/$bin"
}
# Leaves a current host NAME in $out: reuses it, or builds it (not with --reuse-only), one run at a
# time (flock on a lock file in $out; a run that waited reuses what the other one built). A host
# that cannot be built is reported and left out; the script goes on.
ensure_host() { # NAME MODULE MAIN_PACKAGE VERSION_VARIABLE [FILE...]
    local name="$1" state lock
    state="$(host_state "$name" "${@:5}")"
    [[ "$state" == current ]] && return 0
    if [[ $reuse_only -eq 1 ]]; then
        if [[ "$state" == missing ]]; then
            say "no pulumi-language-$name in $out (--reuse-only builds nothing; build.sh without it builds it)"
        else
            say "pulumi-language-$name in $out was built from other language-$name/go.mod, go.sum (--reuse-only builds nothing: kept as it is)"
        fi
        return 0
    fi
    exec {lock}>"$out/.pulumi-language-$name.lock"
    if command -v flock >/dev/null; then flock "$lock"; fi
    if [[ "$(host_state "$name" "${@:5}")" == current ]]; then
        say "reusing pulumi-language-$name, built meanwhile by another run"
    elif ! build_host "$@"; then
        [[ -z "$tmp" ]] || rm -rf "$tmp"
        tmp=""
        if [[ "$state" == stale ]]; then
            say "could not build pulumi-language-$name (the lines above say why): kept the older build in $out"
        else
            say "could not build pulumi-language-$name (the lines above say why): $out has none"
        fi
    fi
    exec {lock}>&-
}

ensure_host yaml github.com/pulumi/pulumi-yaml github.com/pulumi/pulumi-yaml/cmd/pulumi-language-yaml \
    github.com/pulumi/pulumi-yaml/pkg/version.Version
# The Python host runs a program as `python pulumi-language-python-exec ...`, the script found beside it.
ensure_host python github.com/pulumi/pulumi/sdk/v3 github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python \
    "$SDK_VERSION_VARIABLE" python/cmd/pulumi-language-python-exec

echo "$out"
