#!/usr/bin/env bash
# Makes a virtualenv with the pinned Pulumi Python SDK (python-requirements.txt: pulumi 3.248.0 and
# every package it needs, each at a fixed version, from PyPI) in the cache outside the checkout, or
# reuses the one there, and prints its folder (the only line on stdout; progress goes to stderr):
#
#   venv="$(bash tools/pulumi-cli/python.sh)"
#   bin="$(bash tools/pulumi-cli/build.sh)"
#   PATH="$venv/bin:$bin:$PATH" pulumi up ...
#
# How a Pulumi Python project (Pulumi.yaml `runtime: python`) gets it: the Python language host of
# build.sh (sdk v3.79.0) runs the program with the first `python3` on PATH, or with
# PULUMI_PYTHON_CMD when that is set, so put "$venv/bin" first on PATH (or set
# PULUMI_PYTHON_CMD="$venv/bin/python"). Pulumi.yaml's `runtime: {name: python, options: {virtualenv:
# ...}}` does NOT work with it: the v3.248.0 CLI hands runtime options to a language host over gRPC
# only, which this host predates, so it ignores the option and runs the machine's python3.
#
# With --reuse-only it never installs: it prints the folder if a complete virtualenv is in the
# cache, else exits 1.
#
# PULUMI_NETNS_CLI_CACHE overrides the cache, as for build.sh (default
# ${XDG_CACHE_HOME:-~/.cache}/pulumi-netns/pulumi-cli); PULUMI_NETNS_PYTHON names the Python to make
# the virtualenv from (default: python3 on PATH; 3.10 or newer). The folder is
# python-<pulumi version>-<key>, the key a hash of python-requirements.txt, RECIPE below and that
# Python's path and version, so a change to any of them makes a new virtualenv next to the old one
# (delete old ones by hand).
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REQUIREMENTS="$HERE/python-requirements.txt"
RECIPE=1 # bump when the steps below change what is installed
say() { printf 'pulumi-cli/python: %s\n' "$*" >&2; }
fail() { say "$*"; exit 1; }
reuse_only=0
[[ "${1:-}" == --reuse-only ]] && reuse_only=1

version="$(sed -n 's/^pulumi==\([^ ;]*\)$/\1/p' "$REQUIREMENTS")"
[[ -n "$version" ]] || fail "no pulumi==VERSION line in $REQUIREMENTS"
python="${PULUMI_NETNS_PYTHON:-python3}"
command -v "$python" >/dev/null || fail "'$python' is not on PATH: a Python 3.10+ is needed (Debian: apt-get install python3 python3-venv)"
# The interpreter itself (not a shim such as pyenv's), with its version: the virtualenv is made from it.
interp="$("$python" -c 'import sys; print(sys.executable)')" && [[ -n "$interp" ]] || fail "'$python' does not run"
pyversion="$("$interp" -c 'import sys; print(sys.version.replace("\n", " "))')"
"$interp" -c 'import sys; sys.exit(sys.version_info < (3, 10))' \
    || fail "$interp is Python $pyversion: pulumi $version needs 3.10 or newer (PULUMI_NETNS_PYTHON names another)"

key="$(cat "$REQUIREMENTS" <(echo "$RECIPE") <(echo "$interp") <(echo "$pyversion") | sha256sum | cut -c1-12)"
cache="${PULUMI_NETNS_CLI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pulumi-netns/pulumi-cli}"
venv="$cache/python-$version-$key"
# Written last, once everything is installed and checked: a virtualenv without it is not used.
complete="$venv/.pulumi-netns-complete"

if [[ -f "$complete" ]]; then
    say "reusing the Python environment with pulumi $version in $venv"
    echo "$venv"
    exit 0
fi
[[ $reuse_only -eq 1 ]] && exit 1

# Made in place, not in a temporary folder renamed into place: a virtualenv's scripts (pip, activate)
# name its folder. One run at a time makes it (flock on a lock file beside it); the others wait, then
# reuse it.
mkdir -p "$cache"
exec {lock}>"$venv.lock"
if command -v flock >/dev/null; then flock "$lock"; fi
if [[ -f "$complete" ]]; then
    say "reusing the Python environment with pulumi $version in $venv, made meanwhile by another run"
    echo "$venv"
    exit 0
fi

start=$SECONDS
say "making a Python environment with pulumi $version in $venv (Python $pyversion at $interp)"
rm -rf "$venv"
trap 'rm -rf "$venv"' EXIT
"$interp" -m venv "$venv" >&2 || fail "\`$interp -m venv\` failed (Debian's python3 needs python3-venv: apt-get install python3-venv)"
# Every package at its pinned version; pip says which one it cannot have.
"$venv/bin/python" -m pip install --disable-pip-version-check --no-input --quiet -r "$REQUIREMENTS" >&2 \
    || fail "pip could not install $REQUIREMENTS (above: why)"
"$venv/bin/python" - "$version" >&2 <<'PY' || fail "the Python environment in $venv does not import pulumi $version"
import importlib.metadata, sys
import pulumi, pulumi.runtime  # what pulumi-language-python-exec imports first
found = importlib.metadata.version("pulumi")
if found != sys.argv[1]:
    sys.exit(f"pulumi {found} is installed, not {sys.argv[1]}")
PY
echo "$key" >"$complete"
trap - EXIT
say "made the Python environment with pulumi $version in $((SECONDS - start))s: $venv"
echo "$venv"
