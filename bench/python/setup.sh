#!/usr/bin/env bash
# Creates .cache/py (a virtual environment, git-ignored) with bench/python/requirements.txt.
#   bash bench/python/setup.sh            then   .cache/py/bin/python bench/python/alternatives.py <beir-dir>
# PYTHON=python3.11 picks the interpreter (3.10-3.13). TORCH_INDEX=<url> installs torch from another index
# first (e.g. the PyTorch CPU-only index) to avoid PyPI's CUDA build on Linux.
set -euo pipefail
cd "$(dirname "$0")/../.."
PYTHON="${PYTHON:-python3}"
"$PYTHON" -m venv .cache/py
if [ -n "${TORCH_INDEX:-}" ]; then
  .cache/py/bin/pip install --index-url "$TORCH_INDEX" "torch==2.13.0"
fi
.cache/py/bin/pip install -r bench/python/requirements.txt
.cache/py/bin/python -m unittest discover -s bench/python
