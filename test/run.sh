#!/usr/bin/env bash
# npm test: build, then run mocha. As root, everything runs inside the private sandbox of
# test/sandbox.sh (never touches the host's networking).
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
  local rc=0 log
  log="$(mktemp)"
  set +e
  npx --no-install mocha --require ts-node/register --extension ts --timeout 30000 \
    ${opts[@]+"${opts[@]}"} "${files[@]}" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  # One plain closing line for CI: "N passed, N failed, N skipped".
  count() { grep -Eo "^ +[0-9]+ $1" "$log" | tail -1 | grep -Eo '[0-9]+' || echo 0; }
  echo "mocha: $(count passing) passed, $(count failing) failed, $(count pending) skipped"
  rm -f "$log"
  exit "$rc"
}

# Inside the sandbox (see test/sandbox.sh).
if [[ "${1:-}" == "--__mocha" ]]; then
  shift
  run_mocha "$@"
fi

unset PULUMI_NETNS_SANDBOX PULUMI_NETNS_HOST_NETNS
export PATH="$PATH:/usr/sbin:/sbin"

# The system tools the privileged tests run, each with the Debian package that has it (README.md, "Requirements").
# As root with apt-get, the missing ones are installed, saying so; else the run stops here, naming each.
# Servers among them (sshd, dnsmasq, iperf3, python3's http.server) only ever run inside the test sandbox.
TOOLS=(ip:iproute2 bridge:iproute2 tc:iproute2 ss:iproute2 iptables:iptables ip6tables:iptables
  iptables-save:iptables ip6tables-save:iptables ping:iputils-ping unshare:util-linux nsenter:util-linux
  setpriv:util-linux sysctl:procps ssh:openssh-client ssh-keygen:openssh-client sshd:openssh-server
  sudo:sudo dnsmasq:dnsmasq-base getent:libc-bin iperf3:iperf3 curl:curl python3:python3)
missing_tools() {
  local t
  for t in "${TOOLS[@]}"; do command -v "${t%%:*}" >/dev/null 2>&1 || echo "$t"; done
}
if [[ "$(id -u)" -eq 0 ]]; then
  mapfile -t missing < <(missing_tools)
  if [[ ${#missing[@]} -gt 0 ]] && command -v apt-get >/dev/null 2>&1; then
    pkgs="$(printf '%s\n' "${missing[@]#*:}" | sort -u | tr '\n' ' ')"
    echo "npm test: installing the system tools the tests need (${missing[*]%%:*}): apt-get install $pkgs" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Debian starts a service when its package is installed: policy-rc.d (exit 101) stops that for the
    # install, so openssh-server never leaves an sshd listening on the machine itself.
    rc_d=""
    if [[ ! -e /usr/sbin/policy-rc.d ]]; then
      rc_d=/usr/sbin/policy-rc.d
      printf '#!/bin/sh\nexit 101\n' > "$rc_d" && chmod 755 "$rc_d"
    fi
    # shellcheck disable=SC2086 # one word per package
    { apt-get update -qq && apt-get install -y -qq --no-install-recommends $pkgs; } >&2 || true
    [[ -n "$rc_d" ]] && rm -f "$rc_d"
    mapfile -t missing < <(missing_tools)
  fi
  if [[ ${#missing[@]} -gt 0 ]]; then
    for t in "${missing[@]}"; do echo "npm test: missing ${t%%:*}: install it (Debian/Ubuntu: apt-get install ${t#*:})" >&2; done
    exit 1
  fi
fi

if [[ "${PULUMI_NETNS_SKIP_BUILD:-}" != "1" ]]; then
  npm run build
  # The tests and examples are type-checked like the package (mocha itself only transpiles them).
  npx --no-install tsc -p tsconfig.test.json
fi

# The real Pulumi CLI for test/e2e/ (built from the Go module proxy on first use, then reused from
# its cache): before the sandbox, which has no network; only when the run includes test/e2e/ (no
# test files named, or one of them under e2e, remote or components: those drive it too). PULUMI_NETNS_CLI names one to use instead.
wants_e2e=1
for a in "$@"; do [[ "$a" == *.ts || -e "$a" ]] && wants_e2e=0; done
for a in "$@"; do [[ "$a" == *e2e* || "$a" == *remote* || "$a" == *components* ]] && wants_e2e=1; done
# Sets VAR to the folder SCRIPT prints (tools/pulumi-cli/…), unless VAR is set already or the run has no
# e2e test; when SCRIPT fails, says which tests WHAT is missing for skips (under CI=true, fail).
prepare_e2e() { # VAR SCRIPT WHAT
  local var="$1" script="$2" what="$3" dir
  [[ -z "${!var:-}" && "$wants_e2e" -eq 1 ]] || return 0
  if dir="$(bash "$ROOT/tools/pulumi-cli/$script")"; then
    export "$var=$dir"
  else
    echo "WARNING: no $what (tools/pulumi-cli/$script failed, above): the tests that need it will be skipped (under CI=true, fail)" >&2
  fi
}
prepare_e2e PULUMI_NETNS_CLI build.sh "Pulumi CLI"
# The Python programs of test/e2e/ run with the pinned Pulumi Python SDK, in a virtualenv that
# python.sh makes in the cache from PyPI (so here, before the sandbox) or reuses.
prepare_e2e PULUMI_NETNS_PYTHON python.sh "Python environment for Pulumi"

# test/e2e/install.test.ts installs the package offline inside the sandbox, from npm's cache. `npm ci`
# caches the lockfile's tarballs but not the registry metadata a fresh project resolves against:
# install the same thing once here, where the registry is reachable, so the cache holds both.
if [[ "$wants_e2e" -eq 1 ]]; then
  warm="$(mktemp -d)"
  echo '{"name":"warm-npm-cache","version":"1.0.0","private":true}' > "$warm/package.json"
  (cd "$warm" && npm install --ignore-scripts --no-audit --no-fund --install-links "$ROOT" @pulumi/pulumi@3.248.0 >/dev/null 2>&1) ||
    echo "WARNING: could not fill npm's cache for test/e2e/install.test.ts (no registry?)" >&2
  rm -rf "$warm"
fi

if [[ "$(id -u)" -eq 0 ]]; then
  exec bash "$ROOT/test/sandbox.sh" bash "$ROOT/test/run.sh" --__mocha "$@"
fi

if [[ "${CI:-}" == "true" ]]; then
  echo "FATAL: CI=true but not running as root: privileged kernel/protocol tests must run in CI" >&2; exit 1
fi
echo "==================================================================================================" >&2
echo "SKIPPING privileged tests: not root (kernel and protocol tests need CAP_NET_ADMIN inside an unshare sandbox)" >&2
echo "==================================================================================================" >&2
run_mocha "$@"
