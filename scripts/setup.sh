#!/usr/bin/env bash
# Install everything Mesh Art Node needs on Debian bookworm / Raspberry Pi OS:
# Debian packages (mosquitto for the MQTT tests, chromium for the gallery browser tests, nodejs and
# npm for the official Meshtastic JavaScript client test), a virtual environment in .venv, the
# project with its dev extra, that client's npm packages in tests/radio/js, and Lighthouse in
# benchmarks/lighthouse.
# Idempotent: running it again only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
        echo "setup: run as root or install sudo" >&2; exit 1; fi
fi

need_apt=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need_apt+=(python3-venv)
command -v node >/dev/null 2>&1 || need_apt+=(nodejs)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "setup: installing Debian packages: ${need_apt[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# The broker is started by the tests themselves; keep the system service from holding port 1883.
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet mosquitto 2>/dev/null; then
    $SUDO systemctl disable --now mosquitto >/dev/null 2>&1 || true
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev,sim]'
# The packages' published manifests keep their monorepo's pnpm-only preinstall hook: skip install scripts.
if [ ! -d tests/radio/js/node_modules/@meshtastic/transport-node ]; then
    (cd tests/radio/js && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
# Lighthouse for benchmarks/lighthouse_gallery.py: 12.2.3 is the last release that runs on Node 20.
if [ ! -x benchmarks/lighthouse/node_modules/.bin/lighthouse ]; then
    (cd benchmarks/lighthouse && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
echo "setup: done (.venv ready)"
