#!/usr/bin/env bash
# Fuzzes the AWS event stream decoder (Sources/TollgateModel/Parsing/AWSEventStream.swift) with libFuzzer and the
# address sanitizer for a bounded time: no crash, trap or out-of-bounds read, and split feeding agrees with whole
# feeding. Seeds are the Bedrock event stream fixtures.
#
#   scripts/fuzz-eventstream.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
out=.build/fuzz
mkdir -p "$out/corpus"
cp Fixtures/*.eventstream "$out/corpus/" 2>/dev/null || true
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name EventStreamFuzz \
    Fuzz/AWSEventStreamFuzz.swift \
    Sources/TollgateModel/Parsing/AWSEventStream.swift \
    Sources/TollgateModel/Support/CRC32.swift \
    -o "$out/eventstream-fuzz"
"$out/eventstream-fuzz" -max_total_time="$seconds" -max_len=4096 -print_final_stats=1 "$out/corpus"
