#!/usr/bin/env bash
# `npm run up|preview|refresh|destroy`: runs the Pulumi CLI on the top-level project (Pulumi.yaml,
# whose program is examples/nat-gateway) with stack `dev` and a local file backend in the checkout.
# Overridable as usual: PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE(_FILE), PULUMI_STACK.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
cmd="${1:?usage: examples/pulumi.sh up|preview|refresh|destroy}"
shift

fail() { printf 'npm run %s: %s\n' "$cmd" "$*" >&2; exit 1; }

# The stack creates namespaces, links, iptables rules and sysctls on this machine: it needs root.
if [[ "$(id -u)" -ne 0 ]]; then
    fail "pulumi-netns changes this machine's networking and needs root (CAP_NET_ADMIN): run it as root, e.g. sudo -E npm run $cmd"
fi
for tool in ip iptables sysctl; do
    command -v "$tool" >/dev/null || fail "'$tool' is missing: install it (Debian/Ubuntu: apt-get install iproute2 iptables procps)"
done

# The Pulumi CLI: `pulumi` on PATH if it runs; else the pinned build of tools/pulumi-cli if its cache
# (outside the checkout) has one; else the official `pulumi` npm package if it can fetch the CLI; else
# the pinned build, built from the Go module proxy now (minutes, the first time only).
use_pinned() {
    # Its plugins (language host, dynamic-provider plugin) sit next to it; PATH is searched first.
    export PATH="$1:$PATH" PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
    pulumi=("$1/pulumi")
}
if command -v pulumi >/dev/null && pulumi version >/dev/null 2>&1; then
    pulumi=(pulumi)
elif bin="$(bash tools/pulumi-cli/build.sh --reuse-only 2>/dev/null)"; then
    use_pinned "$bin"
elif [[ -x node_modules/.bin/pulumi ]] && node_modules/.bin/pulumi version >/dev/null 2>&1; then
    pulumi=(node_modules/.bin/pulumi)
elif bin="$(bash tools/pulumi-cli/build.sh)"; then
    use_pinned "$bin"
else
    fail "no Pulumi CLI can run here: none on PATH, the 'pulumi' npm package could not fetch it, and the pinned build failed (above).
Install it (https://www.pulumi.com/docs/install/), or install Go 1.25+ so that tools/pulumi-cli/build.sh can build it, then try again."
fi
export PULUMI_SKIP_UPDATE_CHECK="${PULUMI_SKIP_UPDATE_CHECK:-true}"

export PULUMI_BACKEND_URL="${PULUMI_BACKEND_URL:-file://$PWD/.pulumi}"
if [[ -z "${PULUMI_CONFIG_PASSPHRASE+x}" && -z "${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]]; then
    export PULUMI_CONFIG_PASSPHRASE=""
fi
mkdir -p .pulumi
stack="${PULUMI_STACK:-dev}"

npm run --silent build
"${pulumi[@]}" stack select --create "$stack" --non-interactive >/dev/null
case "$cmd" in
    up) "${pulumi[@]}" up --yes --stack "$stack" "$@"
        echo
        echo "Try it:  $("${pulumi[@]}" stack output tryThis --stack "$stack")"
        echo "Undo it: npm run destroy" ;;
    preview) "${pulumi[@]}" preview --stack "$stack" "$@" ;;
    refresh) "${pulumi[@]}" refresh --yes --stack "$stack" "$@" ;;
    destroy) "${pulumi[@]}" destroy --yes --stack "$stack" "$@" ;;
    *) fail "unknown command (use up, preview, refresh or destroy)" ;;
esac
