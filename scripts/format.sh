#!/usr/bin/env bash
# Checks formatting against .swift-format (swift-format ships with the toolchain); `scripts/format.sh --fix`
# rewrites the files instead.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = "--fix" ]; then
    swift format format --in-place --recursive Package.swift Sources Tests
else
    swift format lint --strict --recursive Package.swift Sources Tests
fi
