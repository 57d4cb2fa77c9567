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
RECIPE=1 # bump when the build steps below change what is built
say() { printf 'pulumi-cli: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }

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
    echo "$out"
    exit 0
fi
[[ "${1:-}" == --reuse-only ]] && exit 1

start=$SECONDS
elapsed() { printf '%dm%02ds' $(((SECONDS - start) / 60)) $(((SECONDS - start) % 60)); }
say "building the Pulumi CLI $VERSION into $out ($(go version | cut -d' ' -f3); a first build takes several minutes)"
mkdir -p "$cache"
tmp="$(mktemp -d "$out.build.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT

# Runs `go ARGS` in module DIR, printing a line every 15 s: how many modules arrived (`-x` logs one
# `# get` per file fetched) or packages compiled (`-v` names each), out of TOTAL when known.
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
        fail "\`go $*\` failed in $dir (exit $rc) after $(elapsed); the lines above say why"
    fi
}

build() { # MODULE_DIR MAIN_PACKAGE VERSION_STRING OUTPUT
    local dir="$1" pkg="$2" version="$3" bin="$4"
    say "[$bin] downloading modules ($(elapsed))"
    progress "modules fetched" "" "$dir" mod download -x
    local total; total="$(cd "$dir" && go list -deps "$pkg" | wc -l)"
    say "[$bin] compiling $total packages ($(elapsed))"
    progress "packages compiled" "$total" "$dir" build -v -trimpath \
        -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" -o "$tmp/$bin" "$pkg"
    say "[$bin] built ($(elapsed))"
}

build "$HERE" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "$VERSION" pulumi
langhost="$(sed -n 's|^require github.com/pulumi/pulumi/sdk/v3 \(v[^ ]*\)$|\1|p' "$HERE/language-nodejs/go.mod")"
build "$HERE/language-nodejs" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs "$langhost" pulumi-language-nodejs

plugin_script >"$tmp/pulumi-resource-pulumi-nodejs"
chmod 755 "$tmp"/*

PULUMI_SKIP_UPDATE_CHECK=true "$tmp/pulumi" version >/dev/null || fail "the freshly built pulumi does not run"
rm -f "$tmp/go.log"
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
say "built the Pulumi CLI $VERSION in $(elapsed): $out"
echo "$out"
