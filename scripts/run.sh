#!/usr/bin/env bash
# Quick start: builds Tollgate (release) and runs the gateway on its embedded default, a data folder
# (./tollgate-data, or $TOLLGATE_DATA). Extra arguments go to `tollgate serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
scripts/release-build.sh tollgate
exec .build/release/tollgate serve "$@"
