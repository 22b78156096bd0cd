#!/usr/bin/env bash
# Create ./.venv (if missing) and install maese with its pinned requirements and the DNSMOS extra.
# Idempotent: a second run only checks that everything is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -r requirements.txt -r requirements-dnsmos.txt
.venv/bin/python -m pip install --quiet --no-deps -e .
.venv/bin/python -c "import torch, torchaudio, speechbrain, maese; print('maese', maese.__version__, '| torch', torch.__version__, '| torchaudio', torchaudio.__version__, '| speechbrain', speechbrain.__version__)"
