#!/usr/bin/env bash
# Builds and runs every fuzz harness in Fuzz/ for [seconds] each (default 60). scripts/test.sh runs it for a few
# seconds, so a harness that no longer builds against the code it exercises, or an input that now crashes, fails
# the tests. The longer runs are the ones the README's table reports.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
for harness in segment-blocks segment-journal record-frames column-blocks segment-index usage-archives eventstream; do
    echo "fuzz-$harness: ${seconds} s"
    scripts/fuzz-$harness.sh "$seconds" 2>&1 | grep -E '^(Done|stat::number_of_executed_units)' || {
        echo "fuzz-$harness failed: run scripts/fuzz-$harness.sh $seconds for its output" >&2
        exit 1
    }
done
