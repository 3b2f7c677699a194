#!/usr/bin/env bash
# Self-contained GPU benchmark for tapegrad (issue 5): install, find a display, check that gpu.js
# really runs shaders (mode headlessgl, not gpu.js's cpu fallback), run bench/gpu.ts, write JSON.
# Meant to run unchanged on a machine with an NVIDIA GPU as well as on a CPU-only box (llvmpipe).
#
#   bench/gpu-machine.sh [NODE_BIN] [OUT_JSON] [--quick]
#     NODE_BIN  node ≥ 20 to use (default: `node` on PATH); its directory is put first on PATH
#     OUT_JSON  where to write the table (default: bench/gpu-results.<hostname>.json)
#
# Display strategy, in order:
#   1. DISPLAY already set (a real X server, e.g. Xorg with the NVIDIA driver): use it.
#   2. NVIDIA GPU present (nvidia-smi works) and Xorg installed: start a headless Xorg on :99 with
#      an nvidia-xconfig generated config (--use-display-device=None), so GLX is NVIDIA's.
#   3. Otherwise Xvfb (xvfb-run -a): GLX is Mesa's llvmpipe, a software renderer; timings are then
#      CPU-bound and say nothing about a real GPU. The JSON records which one ran.
# Environment: TAPEGRAD_ANGLE_PLATFORM=vulkan sets ANGLE_DEFAULT_PLATFORM for gl@9's ANGLE (try it
# on NVIDIA if GLX through Xorg is not available; needs the NVIDIA Vulkan ICD).
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_BIN="${1:-$(command -v node || true)}"
OUT="${2:-bench/gpu-results.$(hostname).json}"
QUICK="${3:-}"
[ -x "$NODE_BIN" ] || { echo "node binary not found: '$NODE_BIN' (pass its path as the first argument)" >&2; exit 2; }
export PATH="$(dirname "$NODE_BIN"):$PATH"
echo "node $(node -v) at $NODE_BIN"
node -e 'process.exit(+process.versions.node.split(".")[0] < 20)' || { echo "node >= 20 required" >&2; exit 2; }

SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
need_pkgs=""
command -v xvfb-run >/dev/null 2>&1 || need_pkgs="$need_pkgs xvfb"
dpkg -s xauth >/dev/null 2>&1 || need_pkgs="$need_pkgs xauth"
dpkg -s libgl1-mesa-dri libglx-mesa0 >/dev/null 2>&1 || need_pkgs="$need_pkgs libgl1-mesa-dri libglx-mesa0"
if [ -n "$need_pkgs" ] && command -v apt-get >/dev/null 2>&1; then
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $need_pkgs >/dev/null
fi

# Install (gl@9 builds its binding with node-gyp when no prebuilt binary can be downloaded).
if [ ! -d node_modules/gpu.js ] || [ ! -f node_modules/gl/build/Release/webgl.node ]; then
  npm ci --no-audit --no-fund
fi
[ -f node_modules/gl/build/Release/webgl.node ] || (cd node_modules/gl && npx node-gyp rebuild)

[ -n "${TAPEGRAD_ANGLE_PLATFORM:-}" ] && export ANGLE_DEFAULT_PLATFORM="$TAPEGRAD_ANGLE_PLATFORM"

XORG_PID=""
cleanup() { [ -n "$XORG_PID" ] && kill "$XORG_PID" 2>/dev/null || true; }
trap cleanup EXIT
RUN=()
DISPLAY_KIND=""
if [ -n "${DISPLAY:-}" ]; then
  DISPLAY_KIND="existing DISPLAY=$DISPLAY"
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && command -v Xorg >/dev/null 2>&1; then
  BUSID=$(nvidia-xconfig --query-gpu-info 2>/dev/null | awk '/PCI BusID/ {print $4; exit}')
  CONF=$(mktemp /tmp/xorg-nvidia.XXXX.conf)
  nvidia-xconfig -o "$CONF" --allow-empty-initial-configuration --use-display-device=None --virtual=1280x1024 ${BUSID:+--busid=$BUSID} >/dev/null
  $SUDO Xorg :99 -config "$CONF" -noreset +extension GLX >/tmp/xorg-nvidia.log 2>&1 &
  XORG_PID=$!
  sleep 3
  export DISPLAY=:99
  DISPLAY_KIND="Xorg :99 with the NVIDIA driver ($(nvidia-smi --query-gpu=name --format=csv,noheader | head -1))"
else
  RUN=(xvfb-run -a -s "-screen 0 1280x1024x24")
  DISPLAY_KIND="Xvfb (Mesa llvmpipe, software rendering)"
fi
echo "display: $DISPLAY_KIND"

# Mode check: gpu.js must run a real shader (headlessgl), or we stop here.
"${RUN[@]}" npx tsx -e "
  import('./src/backend/gpu/index.ts').then(({ setBackend, backendInfo }) => {
    setBackend('gpu');
    const i = backendInfo();
    if (i.gpuMode !== 'headlessgl') { console.error('not in a GPU mode', i); process.exit(1); }
    console.log('gpu.js mode', i.gpuMode, '|', i.renderer);
  }).catch((e) => { console.error(e.message); process.exit(1); });
"

export TAPEGRAD_GL_RENDERER="$DISPLAY_KIND"
"${RUN[@]}" npx tsx bench/gpu.ts --out "$OUT" $QUICK
echo "results: $OUT"
