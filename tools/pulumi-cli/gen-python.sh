#!/usr/bin/env bash
# Writes the Python SDK of a package schema into OUT (pyproject.toml, README.md, pulumi_<name>/), with
# gen-python/: the Python code generator of the pinned CLI's own module (pkg/v3 v3.248.0), which
# `pulumi package gen-sdk --language python` would run through the Python language host; the host
# built here (sdk v3.79.0) predates that request. Then `pip install OUT` installs it.
#
#   bash tools/pulumi-cli/gen-python.sh dist/schema.json sdk/python
#
# The generator is built once into the CLI's cache folder (build.sh prints it), beside the CLI, from
# the modules the CLI was built from, and rebuilt when gen-python/ or go.sum changes.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -eq 2 ]] || { echo "usage: gen-python.sh SCHEMA.json OUT_DIR" >&2; exit 2; }
export PATH="$PATH:/usr/local/go/bin" GOTOOLCHAIN=local CGO_ENABLED=0 GOFLAGS="-mod=readonly -buildvcs=false"
out="$(bash "$HERE/build.sh")"
bin="$out/pulumi-netns-gen-python"
stamp="$(cat "$HERE/gen-python/main.go" "$HERE/go.mod" "$HERE/go.sum" <(go version) | sha256sum | cut -c1-12)"
if [[ ! -x "$bin" || "$(cat "$bin.stamp" 2>/dev/null)" != "$stamp" ]]; then
    echo "gen-python: building the generator into $out" >&2
    (cd "$HERE" && go build -trimpath -ldflags "-s -w" -o "$bin.$$" ./gen-python) && mv -f "$bin.$$" "$bin" && echo "$stamp" >"$bin.stamp"
fi
mkdir -p "$2"
"$bin" "$1" "$2"
# The README the project's metadata names, at the top as pip builds it.
[[ -f "$2/README.md" ]] || cp "$2"/pulumi_*/README.md "$2/README.md"
