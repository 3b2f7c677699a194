#!/usr/bin/env bash
# The packaging check: what a new user does with the published package, done from the tarball.
#   1. npm pack (its prepack script builds dist/), then publint and @arethetypeswrong/cli on the tarball;
#   2. npm install <tarball> into a brand-new project in a temporary folder: no GPU packages, nothing native;
#   3. the README's "Quick start" block (extracted here, so it cannot drift) type-checked with tsc --strict
#      (node16/nodenext and bundler resolution) and run with plain `node` as ESM;
#   4. require('tapegrad') and the missing-GPU message of setBackend('gpu').
# Extra Node versions to run steps 3-4 under: TAPEGRAD_PACK_NODES="/path/to/node24/bin …" (bin folders).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
work="$(mktemp -d "${TMPDIR:-/tmp}/tapegrad-pack.XXXXXX")"
trap 'rm -rf "$work"' EXIT
step() { printf '\n---- pack-check: %s\n' "$*"; }

step "npm pack"
tgz="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
tar -tzf "$tgz" > "$work/files.txt"
echo "$(basename "$tgz"): $(du -k "$tgz" | cut -f1) kB, $(wc -l < "$work/files.txt") files"
# Ships what a user needs, and nothing that nothing uses.
for f in dist/index.js dist/index.d.ts README.md LICENSE CHANGELOG.md docs/tensors.md; do
  grep -qx "package/$f" "$work/files.txt" || { echo "pack-check: the tarball lacks $f" >&2; exit 1; }
done
if grep -E '\.wasm$|/assembly/|^package/src/|\.map$|^package/(test|bench|examples)/' "$work/files.txt"; then
  echo "pack-check: the tarball ships files nothing uses (above)" >&2; exit 1
fi
if [ "$(tar -xzOf "$tgz" package/dist/backend/wasm/binary.d.ts | wc -c)" -gt 1000 ]; then
  echo "pack-check: dist/backend/wasm/binary.d.ts carries the binary as a literal type" >&2; exit 1
fi

step "publint"
npx --no-install publint run "$tgz" --strict
step "are the types wrong"
# node16-from-CJS is TypeScript's model of a Node without require(esm); Node 20.19+/22.12+ do load it with
# require(), which step 4 checks at run time. Everything else must be green.
npx --no-install attw "$tgz" --ignore-rules cjs-resolves-to-esm --no-color

step "npm install <tarball> in a new project"
app="$work/app"
mkdir -p "$app"
cd "$app"
cat > package.json <<'EOF'
{ "name": "tapegrad-pack-check", "version": "1.0.0", "private": true, "type": "module" }
EOF
tsv="$(node -p "require('$root/node_modules/typescript/package.json').version")"
tnv="$(node -p "require('$root/node_modules/@types/node/package.json').version")"
npm install --no-audit --no-fund --silent "$tgz"
kb="$(du -sk node_modules | cut -f1)"
echo "installed size of tapegrad (with its dependencies): $kb kB"
for p in gpu.js gl webgpu; do
  if [ -e "node_modules/$p" ]; then echo "pack-check: npm install tapegrad installed $p" >&2; exit 1; fi
done
[ "$kb" -lt 5120 ] || { echo "pack-check: npm install tapegrad takes $kb kB (limit 5 MB)" >&2; exit 1; }
npm install --no-audit --no-fund --silent --no-save "typescript@$tsv" "@types/node@$tnv"

step "the README's quick start"
node -e '
  const md = require("node:fs").readFileSync(process.argv[1], "utf8");
  const m = /^## Quick start\n[\s\S]*?^```ts\n([\s\S]*?)^```/m.exec(md);
  if (!m) { console.error("pack-check: README.md has no ```ts block under ## Quick start"); process.exit(1); }
  require("node:fs").writeFileSync("quickstart.ts", m[1]);' "$root/README.md"
cat > tsconfig.json <<'EOF'
{ "compilerOptions": { "strict": true, "target": "ES2022", "module": "nodenext", "moduleResolution": "nodenext",
  "types": ["node"], "outDir": "out", "skipLibCheck": false }, "files": ["quickstart.ts"] }
EOF
cat > tsconfig.bundler.json <<'EOF'
{ "compilerOptions": { "strict": true, "target": "ES2022", "module": "preserve", "moduleResolution": "bundler",
  "types": ["node"], "noEmit": true, "skipLibCheck": false }, "files": ["quickstart.ts"] }
EOF
npx --no-install tsc -p tsconfig.json
npx --no-install tsc -p tsconfig.bundler.json
echo "tsc --strict: ok (nodenext and bundler resolution, library .d.ts checked too)"

cat > require.cjs <<'EOF'
const tg = require('tapegrad');
const t = tg.tensor([[1, 2], [3, 4]]);
if (t.sum().item() !== 10) throw new Error('require(tapegrad): wrong sum');
let msg = '';
try { tg.setBackend('gpu'); } catch (e) { msg = String(e && e.message); }
if (!/npm install gpu\.js/.test(msg)) throw new Error(`setBackend('gpu') without gpu.js said: ${msg}`);
console.log(`require('tapegrad') on Node ${process.version}: ok; setBackend('gpu') says: ${msg.split('\n')[0]}`);
EOF
run_node() {   # run_node BIN_DIR_OR_EMPTY
  local bin="$1" v major minor
  local PATH="${bin:+$bin:}$PATH"
  v="$(node -p 'process.versions.node')"; major="${v%%.*}"; minor="$(echo "$v" | cut -d. -f2)"
  echo "Node $v: node out/quickstart.js"
  node out/quickstart.js | tee quickstart.log
  grep -q '^\[ 3, 12 \]$' quickstart.log || { echo "pack-check: quick start printed no [ 3, 12 ]" >&2; exit 1; }
  if [ "$major" -ge 23 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 18 ]; }; then
    echo "Node $v: node quickstart.ts (type stripping)"
    node quickstart.ts >/dev/null
  fi
  if [ "$major" -gt 22 ] || { [ "$major" -eq 22 ] && [ "$minor" -ge 12 ]; } || { [ "$major" -eq 20 ] && [ "$minor" -ge 19 ]; }; then
    node require.cjs
  else
    echo "Node $v has no require(esm): require('tapegrad') not checked"
  fi
}
run_node ""
for bin in ${TAPEGRAD_PACK_NODES:-}; do run_node "$bin"; done
step "ok"
