#!/usr/bin/env bash
# Installs what Vigil needs on Debian, only what is missing.
#   scripts/deps.sh run    Node.js/npm (to build the console)
#   scripts/deps.sh test   + PostgreSQL, ffmpeg, VLC, GStreamer RTSP server, Chromium, CJK fonts
set -euo pipefail
mode=${1:-test}
need=()
have() { command -v "$1" >/dev/null 2>&1; }
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

have go || { echo "Go is not installed: install Go 1.26 from go.dev/dl (Debian's is too old)" >&2; exit 1; }
if ! have node || ! have npm; then need+=(nodejs npm); fi
if [ "$mode" = test ]; then
  ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  have ffmpeg || need+=(ffmpeg)
  have cvlc || need+=(vlc-bin vlc-plugin-base)
  have chromium || need+=(chromium)
  for p in fonts-wqy-microhei gir1.2-gst-rtsp-server-1.0 python3-gi gstreamer1.0-plugins-good gstreamer1.0-plugins-bad \
           gstreamer1.0-plugins-ugly gstreamer1.0-libav gstreamer1.0-tools; do
    pkg_installed "$p" || need+=("$p")
  done
fi
if [ ${#need[@]} -gt 0 ]; then
  echo "== installing: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
  echo "Node.js $node_major is too old for the console build (Vite needs 20.19 or newer)" >&2; exit 1
fi
