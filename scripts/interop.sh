#!/usr/bin/env bash
# Interop tests: the official OpenAI, Anthropic, Google GenAI, Cohere and AWS (boto3) Python SDKs against
# `tollgate mock-provider` and `tollgate serve`, and the dashboard in headless chromium.
#
# Creates a virtualenv in .venv with the pinned SDKs (Tests/Interop/requirements.txt), then runs pytest on
# Tests/Interop. TOLLGATE_BIN names the `tollgate` executable to test; without it the debug build is used (and built
# if missing). Extra arguments go to pytest, e.g. `scripts/interop.sh -k direct`. Exits with pytest's status.
set -euo pipefail

cd "$(dirname "$0")/.."

if [[ -z "${TOLLGATE_BIN:-}" ]]; then
    TOLLGATE_BIN=".build/debug/tollgate"
    if [[ ! -x "$TOLLGATE_BIN" ]]; then
        swift build --product tollgate
    fi
fi
if [[ ! -x "$TOLLGATE_BIN" ]]; then
    echo "interop: tollgate executable not found at $TOLLGATE_BIN" >&2
    exit 2
fi
TOLLGATE_BIN="$(cd "$(dirname "$TOLLGATE_BIN")" && pwd)/$(basename "$TOLLGATE_BIN")"
export TOLLGATE_BIN

# The dashboard test runs Debian's headless chromium through chromium-driver.
scripts/deps.sh chromium chromium-driver

requirements="Tests/Interop/requirements.txt"
if [[ ! -x .venv/bin/python ]]; then
    if ! python3 -m venv .venv; then
        echo "interop: 'python3 -m venv' failed; on Debian install python3-venv (apt-get install python3-venv)" >&2
        exit 2
    fi
fi
stamp=".venv/.tollgate-requirements"
if ! cmp -s "$requirements" "$stamp"; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
    cp "$requirements" "$stamp"
fi

exec .venv/bin/python -m pytest Tests/Interop "$@"
