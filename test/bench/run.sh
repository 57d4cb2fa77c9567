#!/usr/bin/env bash
# npm run bench: build, then run bench.ts as root inside the sandbox of test/sandbox.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
npm run --silent build
export TS_NODE_TRANSPILE_ONLY=1 TS_NODE_PROJECT="$ROOT/tsconfig.json"
export TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node"}'
exec bash test/sandbox.sh node -r ts-node/register test/bench/bench.ts
