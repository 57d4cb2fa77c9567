#!/usr/bin/env bash
# Runs a command as root inside a private sandbox: `unshare --net --mount --propagation private`,
# `lo` up, private tmpfs on /run (with /run/netns) and /etc/netns, PULUMI_NETNS_SANDBOX=1. The
# machine's own namespaces, links, routes, firewall and sysctls are never touched, and whatever
# the command leaves behind dies with the sandbox.   Usage: test/sandbox.sh CMD [ARGS...]
set -euo pipefail

if [[ "${1:-}" == "--__inside" ]]; then
  shift
  # Reference = PID 1's netns if readable, else the netns recorded before unshare.
  ref="$(readlink /proc/1/ns/net 2>/dev/null || true)"; ref="${ref:-${PULUMI_NETNS_HOST_NETNS:-}}"
  if [[ -z "$ref" || "$(readlink /proc/self/ns/net)" == "$ref" ]]; then
    echo "FATAL: not in a private network namespace; refusing to run" >&2; exit 1
  fi
  ip link set lo up
  mount -t tmpfs -o mode=0755 tmpfs-pulumi-netns /run
  mkdir -p /run/netns
  mount -t tmpfs -o mode=0755 tmpfs-pulumi-netns /etc/netns
  export PULUMI_NETNS_SANDBOX=1
  exec "$@"
fi

[[ "$(id -u)" -eq 0 ]] || { echo "FATAL: the sandbox needs root" >&2; exit 1; }
command -v unshare >/dev/null || { echo "FATAL: 'unshare' (util-linux) not found; cannot create the sandbox" >&2; exit 1; }
command -v ip >/dev/null || { echo "FATAL: 'ip' (iproute2) not found" >&2; exit 1; }
unshare --net --mount --propagation private true || {
  echo "FATAL: 'unshare --net --mount' failed; cannot create the sandbox (need CAP_SYS_ADMIN/CAP_NET_ADMIN)" >&2; exit 1; }
mkdir -p /etc/netns
PULUMI_NETNS_HOST_NETNS="$(readlink /proc/self/ns/net)"; export PULUMI_NETNS_HOST_NETNS
exec unshare --net --mount --propagation private bash "${BASH_SOURCE[0]}" --__inside "$@"
