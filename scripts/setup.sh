#!/usr/bin/env bash
# Set up icetrace on a Debian machine: system tools the tests use, and a virtualenv in .venv.
set -euo pipefail
cd "$(dirname "$0")/.."

# chromium: the HTML report's browser test; gcc and python3-dev: the C skimmer (icetrace/capture/_walk.c)
apt_packages=(tshark tcpdump openssl chromium gcc python3-dev)
missing=()
for pkg in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -eq 0 ]]; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: please install: ${missing[*]} (tests that need them are skipped)" >&2
    fi
fi

python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
# dask and corpus: the optional extras, installed so that CI tests --dask and the Parquet tables;
# record: aioice, the real agents the live watch test places calls with
.venv/bin/python -m pip install -q -e '.[dev,dask,corpus,record]'
# An editable install leaves the modules uncompiled; compile them once, as a regular install
# does, so that start-up does not recompile them on every run (PYTHONDONTWRITEBYTECODE).
.venv/bin/python -m compileall -q icetrace dissectors
# the notebooks' kernel, inside the venv, so that executing them (tests/test_notebooks.py) finds it
.venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
# the C skimmer is optional for users; say so when it did not build (in CI its tests then fail)
.venv/bin/python -c 'from icetrace.capture import fast_reader; raise SystemExit(not fast_reader.available())' ||
    echo "setup: the C skimmer did not build (needs gcc and the Python headers); its tests are skipped" >&2
