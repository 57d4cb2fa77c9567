#!/usr/bin/env bash
# npm run bench: build, then run bench.ts as root inside the sandbox of test/sandbox.sh.
# The real Pulumi CLI (tools/pulumi-cli/build.sh: built on first use, then reused from its cache) is
# had before the sandbox, which has no network, and passed as PULUMI_NETNS_CLI (which, set already,
# names one to use instead); BENCH_CLI=0 skips that part of the bench. Other knobs: see bench.ts.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
npm run --silent build
if [[ "${BENCH_CLI:-1}" != "0" && -z "${PULUMI_NETNS_CLI:-}" ]]; then
  PULUMI_NETNS_CLI="$(bash tools/pulumi-cli/build.sh)" || {
    echo "FATAL: no Pulumi CLI (tools/pulumi-cli/build.sh failed, above); BENCH_CLI=0 runs the bench without it" >&2; exit 1; }
  export PULUMI_NETNS_CLI
fi
export TS_NODE_TRANSPILE_ONLY=1 TS_NODE_PROJECT="$ROOT/tsconfig.json"
export TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node"}'
exec bash test/sandbox.sh node -r ts-node/register test/bench/bench.ts
