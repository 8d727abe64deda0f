#!/usr/bin/env bash
# Fuzzes what a lookup by id reads from a sealed segment, its footer and its index frame, fixed or grouped
# (Sources/TollgateStorage/Segment/SegmentFooter.swift, SegmentIndex.swift, GroupedIndex.swift), with libFuzzer and
# the address sanitizer for a bounded time: no crash, trap or out-of-bounds read; what decodes encodes again to the
# same entries; an index finds every id it holds at its first entry and none it does not, decoded whole or read a
# part at a time. Seeds are sealed segments' tails, indexes and a footer, written by the harness's own encoders.
#
#   scripts/fuzz-segment-index.sh [seconds]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib-fuzz.sh
fuzz_setup fuzz-index
# One module: the model's sources and the footer's and index's.
fuzz_model_sources
fuzz_sources \
    Sources/TollgateStorage/Segment/{SegmentIndex,GroupedIndex,SegmentFooter,SegmentFormat,Wire,SegmentError,CRC32C}.swift \
    Sources/TollgateStorage/Catalog/RecordLocation.swift
# shellcheck disable=SC2046
fuzz_build SegmentIndexFuzz SegmentIndexFuzz.swift $(fuzz_crc32c)
fuzz_seed
fuzz_run "${1:-60}" -max_len=4096
