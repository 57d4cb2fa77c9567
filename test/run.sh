#!/usr/bin/env bash
# npm test: build, then run mocha. As root, everything runs inside a private
# network+mount namespace sandbox (never touches the host's networking).
# Extra args go to mocha; if any look like test files, they replace the default glob.
# PULUMI_NETNS_SKIP_BUILD=1 skips `npm run build` (local iteration only).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

run_mocha() {
  local files=() opts=() a
  for a in "$@"; do
    if [[ "$a" == *.ts || "$a" == *.js || "$a" == *'*'* || -e "$a" ]]; then files+=("$a"); else opts+=("$a"); fi
  done
  [[ ${#files[@]} -eq 0 ]] && files=('test/**/*.test.ts')
  export TS_NODE_TRANSPILE_ONLY=1
  export TS_NODE_PROJECT="$ROOT/tsconfig.json"
  # Tests are CommonJS (no "type": "module"); force CJS emit regardless of tsconfig's node16 settings.
  export TS_NODE_COMPILER_OPTIONS='{"module":"commonjs","moduleResolution":"node"}'
  local rc=0
  npx --no-install mocha --require ts-node/register --extension ts --timeout 30000 \
    ${opts[@]+"${opts[@]}"} "${files[@]}" || rc=$?
  exit "$rc"
}

# Stage 2: we are inside `unshare --net --mount --propagation private`.
if [[ "${1:-}" == "--__in-sandbox" ]]; then
  shift
  # Reference = PID 1's netns if readable, else the netns recorded by stage 1 before unshare.
  ref="$(readlink /proc/1/ns/net 2>/dev/null || true)"; ref="${ref:-${PULUMI_NETNS_HOST_NETNS:-}}"
  if [[ -z "$ref" || "$(readlink /proc/self/ns/net)" == "$ref" ]]; then
    echo "FATAL: sandbox stage is not in a private network namespace; refusing to run" >&2; exit 1
  fi
  ip link set lo up
  mount -t tmpfs -o mode=0755 tmpfs-pulumi-netns /run
  mkdir -p /run/netns
  mount -t tmpfs -o mode=0755 tmpfs-pulumi-netns /etc/netns
  export PULUMI_NETNS_SANDBOX=1
  run_mocha "$@"
fi

unset PULUMI_NETNS_SANDBOX PULUMI_NETNS_HOST_NETNS
if [[ "${PULUMI_NETNS_SKIP_BUILD:-}" != "1" ]]; then
  npm run build
fi

if [[ "$(id -u)" -eq 0 ]]; then
  command -v unshare >/dev/null || { echo "FATAL: 'unshare' (util-linux) not found; cannot create the test sandbox" >&2; exit 1; }
  command -v ip >/dev/null || { echo "FATAL: 'ip' (iproute2) not found" >&2; exit 1; }
  unshare --net --mount --propagation private true || {
    echo "FATAL: 'unshare --net --mount' failed; cannot create the test sandbox (need CAP_SYS_ADMIN/CAP_NET_ADMIN)" >&2; exit 1; }
  mkdir -p /etc/netns
  PULUMI_NETNS_HOST_NETNS="$(readlink /proc/self/ns/net)"; export PULUMI_NETNS_HOST_NETNS
  exec unshare --net --mount --propagation private bash "$ROOT/test/run.sh" --__in-sandbox "$@"
fi

if [[ "${CI:-}" == "true" ]]; then
  echo "FATAL: CI=true but not running as root: privileged kernel/protocol tests must run in CI" >&2; exit 1
fi
echo "==================================================================================================" >&2
echo "SKIPPING privileged tests: not root (kernel and protocol tests need CAP_NET_ADMIN inside an unshare sandbox)" >&2
echo "==================================================================================================" >&2
run_mocha "$@"
