#!/usr/bin/env bash
# Create ./.venv (if missing) and install maese with its pinned requirements and the DNSMOS and peers extras.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-dnsmos.txt -r requirements-peers.txt
.venv/bin/python -m pip install --quiet --no-deps -e .
.venv/bin/python -c "import torch, torchaudio, speechbrain, maese; print('maese', maese.__version__, '| torch', torch.__version__, '| torchaudio', torchaudio.__version__, '| speechbrain', speechbrain.__version__)"
# Headless Chromium (Debian's package) for the test that opens maese-report's page; installed once
# as root or through sudo; elsewhere that test skips and says how to install it.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then sudo=""; elif command -v sudo >/dev/null 2>&1; then sudo="sudo"; else sudo="none"; fi
  if [ "$sudo" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: chromium not installed (needs apt-get as root); the report page test will skip"
  else
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  fi
fi
