#!/usr/bin/env bash
# Installs a Vulkan driver that Dawn (the `webgpu` package) accepts: Mesa's lavapipe (software Vulkan) from
# Debian 12's bookworm-backports. Debian 12's own Mesa 22.3 lavapipe is rejected by Dawn ("Vulkan
# shaderUniform*ArrayDynamicIndexing required"); mesa-vulkan-drivers 25.x from backports works.
# Idempotent: does nothing when a backports mesa-vulkan-drivers (>= 24) is already installed.
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
have="$(dpkg-query -W -f='${Version}' mesa-vulkan-drivers 2>/dev/null || true)"
if [ -n "$have" ] && dpkg --compare-versions "$have" ge 24; then
  echo "mesa-vulkan-drivers $have already installed"; exit 0
fi
. /etc/os-release
if [ "${VERSION_CODENAME:-}" != bookworm ]; then
  echo "install-mesa-backports: this script is for Debian 12 (bookworm), found '${VERSION_CODENAME:-?}'." >&2
  echo "Install your distribution's mesa-vulkan-drivers (Mesa >= 24) instead." >&2
  exit 1
fi
list=/etc/apt/sources.list.d/bookworm-backports.sources
if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' 'Components: main' \
    'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' | $SUDO tee "$list" >/dev/null
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers >/dev/null
echo "mesa-vulkan-drivers $(dpkg-query -W -f='${Version}' mesa-vulkan-drivers) installed"
