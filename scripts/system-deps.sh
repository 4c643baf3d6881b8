#!/usr/bin/env bash
# Installs the system packages the browser tests need, when they are missing:
# Debian's Chromium (Playwright drives it; no browser download), fonts with Vietnamese
# glyphs, zbar-tools (decodes QR images), ffmpeg (turns a QR into a fake camera feed) and
# faketime (runs the unit tests with the clock moved, so a test that reads the date fails at once).
set -euo pipefail
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v zbarimg >/dev/null || missing+=(zbar-tools)
command -v ffmpeg >/dev/null || missing+=(ffmpeg)
command -v faketime >/dev/null || missing+=(faketime)
fc-list 2>/dev/null | grep -qi "Noto Sans" || missing+=(fonts-noto-core)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "Installing system packages: ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
