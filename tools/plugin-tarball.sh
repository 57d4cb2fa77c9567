#!/usr/bin/env bash
# `npm run plugin-tarball`: builds the provider plugin as the tarball `pulumi plugin install` takes,
# pulumi-resource-netns-v<version>-linux-<arch>.tar.gz in the package root (or in $1), and prints its path:
#
#   pulumi plugin install resource netns <version> --file pulumi-resource-netns-v<version>-linux-amd64.tar.gz
#
# It holds the executable pulumi-resource-netns, the compiled package (dist/, package.json) and the
# packages it runs on (zod, and @pulumi/pulumi at the version this checkout builds with), so the
# plugin runs wherever Node.js 20.19+ is on PATH, with no npm install beside it.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$root}"
version="$(node -p 'require(process.argv[1]).version' "$root/package.json")"
pulumi_version="$(node -p 'require(process.argv[1]).version' "$root/node_modules/@pulumi/pulumi/package.json")"
case "$(uname -m)" in x86_64) arch=amd64 ;; aarch64) arch=arm64 ;; *) arch="$(uname -m)" ;; esac
[[ -f "$root/dist/provider/plugin/main.js" && -f "$root/dist/schema.json" ]] || (cd "$root" && npm run --silent build)

stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
cp -r "$root/dist" "$stage/"
# The package's own manifest, with @pulumi/pulumi (its peer dependency) as a dependency at the version this checkout builds with.
node -e 'const p = require(process.argv[1]); const { devDependencies, peerDependencies, scripts, ...rest } = p;
    rest.dependencies = { ...p.dependencies, "@pulumi/pulumi": process.argv[2] };
    process.stdout.write(JSON.stringify(rest, null, 2) + "\n")' "$root/package.json" "$pulumi_version" >"$stage/package.json"
cat >"$stage/pulumi-resource-netns" <<'SCRIPT'
#!/usr/bin/env node
// The pulumi-netns provider plugin, as `pulumi plugin install` unpacks it.
require("./dist/provider/plugin/main.js");
SCRIPT
chmod 755 "$stage/pulumi-resource-netns"
(cd "$stage" && npm install --prefer-offline --omit=dev --ignore-scripts --no-audit --no-fund --no-package-lock --loglevel=error >&2)
file="$out/pulumi-resource-netns-v$version-linux-$arch.tar.gz"
tar -czf "$file" -C "$stage" .
echo "$file"
