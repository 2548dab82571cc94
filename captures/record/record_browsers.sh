#!/usr/bin/env bash
# Record the browser scenarios (captures/real/chromium-*, firefox-chromium) from scratch (root,
# Debian): installs headless Chromium, Firefox ESR and the lab's tools, then runs browser_lab.py in
# network namespaces it makes and removes (namespace prefix "br" unless ICETRACE_LAB is set).
#   bash captures/record/record_browsers.sh [chromium-direct chromium-relay firefox-chromium]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ $(id -u) -ne 0 ]]; then echo "record_browsers.sh: run as root" >&2; exit 2; fi
need=()
for tool in turnserver:coturn tcpdump:tcpdump nft:nftables editcap:wireshark-common ip:iproute2 \
            chromium:chromium firefox-esr:firefox-esr; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
systemctl stop coturn 2>/dev/null || true
# turn_holder.py (chromium-turn-quota's other TURN user) is an aioice client
python3 -m venv .venv-record
.venv-record/bin/python -m pip install -q aioice
PYTHON="$PWD/.venv-record/bin/python" ICETRACE_LAB="${ICETRACE_LAB:-br}" timeout 900 \
    .venv-record/bin/python captures/record/browser_lab.py "$@"
