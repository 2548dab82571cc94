#!/usr/bin/env bash
# Record the real-agent corpus from scratch (root, Debian): installs what it needs, then
# runs every scenario (or those named) in network namespaces it makes and removes.
#   bash captures/record/record_all.sh [aioice-direct aioice-relay-only ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
if [[ $(id -u) -ne 0 ]]; then echo "record_all.sh: run as root" >&2; exit 2; fi
need=()
for tool in turnserver:coturn tcpdump:tcpdump nft:nftables editcap:wireshark-common ip:iproute2; do
    command -v "${tool%%:*}" >/dev/null || need+=("${tool##*:}")
done
# libnice runs under the system Python through PyGObject (libnice_lab.py)
dpkg -s gir1.2-nice-0.1 python3-gi >/dev/null 2>&1 || need+=(gir1.2-nice-0.1 python3-gi)
if ((${#need[@]})); then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# coturn's Debian service must not hold port 3478 outside the namespaces
systemctl stop coturn 2>/dev/null || true
# scenario names: libnice-* go to libnice_lab.py, the rest to netlab.py; none named = all of both
netlab_names=() libnice_names=()
for name in "$@"; do
    if [[ $name == libnice-* ]]; then libnice_names+=("$name"); else netlab_names+=("$name"); fi
done
if (($# == 0 || ${#netlab_names[@]})); then
    python3 -m venv .venv-record
    .venv-record/bin/python -m pip install -q aioice
    PYTHON="$PWD/.venv-record/bin/python" timeout 2400 .venv-record/bin/python captures/record/netlab.py "${netlab_names[@]}"
fi
if (($# == 0 || ${#libnice_names[@]})); then
    timeout 1200 /usr/bin/python3 captures/record/libnice_lab.py "${libnice_names[@]}"
fi
