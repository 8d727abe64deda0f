#!/usr/bin/env bash
# Runs every test: the Swift suites (unit, end to end over loopback, crash) and the Python SDK interop tests
# (official openai and anthropic SDKs in a venv this script creates).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh python3-venv
scripts/format.sh
swift build --build-tests
swift test --skip-build --parallel --num-workers 2
scripts/fuzz-all.sh 3
TOLLGATE_BIN="$(swift build --show-bin-path)/tollgate" scripts/interop.sh
