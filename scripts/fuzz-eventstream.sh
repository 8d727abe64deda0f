#!/usr/bin/env bash
# Fuzzes the AWS event stream decoder (Sources/TollgateModel/Parsing/AWSEventStream.swift) with libFuzzer and the
# address sanitizer for a bounded time: no crash, trap or out-of-bounds read, and split feeding agrees with whole
# feeding. Seeds are the Bedrock event stream fixtures.
#
#   scripts/fuzz-eventstream.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz
cp Fixtures/*.eventstream "$corpus/" 2>/dev/null || true
fuzz_sources Sources/TollgateModel/Parsing/AWSEventStream.swift Sources/TollgateModel/Support/CRC32.swift
fuzz_build EventStreamFuzz AWSEventStreamFuzz.swift
fuzz_run "${1:-60}" -max_len=4096
