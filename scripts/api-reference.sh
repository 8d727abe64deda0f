#!/usr/bin/env bash
# Rewrites the README's API reference (between the api-routes markers) from the route declarations, as printed by
# `tollgate routes`. A test fails while the README and the declarations disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product tollgate >/dev/null
reference="$(mktemp)"
trap 'rm -f "$reference"' EXIT
"$(swift build --show-bin-path)/tollgate" routes > "$reference"
python3 - "$reference" <<'PY'
import sys
begin = "<!-- api-routes:begin (written by `tollgate routes`) -->\n"
end = "<!-- api-routes:end -->"
text = open("README.md").read()
start = text.index(begin) + len(begin)
stop = text.index(end, start)
open("README.md", "w").write(text[:start] + open(sys.argv[1]).read() + text[stop:])
PY
