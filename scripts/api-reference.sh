#!/usr/bin/env bash
# Rewrites the README's generated reference blocks from the declarations the code uses: the API reference (between
# the api-routes markers, `tollgate routes`), the gateway settings, the `cf-aig-*` headers and the configuration
# file's serve keys (`tollgate reference NAME`). A test fails while the README and the declarations disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product tollgate >/dev/null
tollgate="$(swift build --show-bin-path)/tollgate"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for name in api-routes gateway-settings headers config-keys; do
    "$tollgate" reference "$name" > "$work/$name"
done
python3 - "$work" <<'PY'
import os, re, sys
work = sys.argv[1]
text = open("README.md").read()
for name in sorted(os.listdir(work)):
    begin = re.search(r"<!-- " + re.escape(name) + r":begin[^\n]*-->\n", text)
    if begin is None:
        sys.exit(f"README.md has no {name}:begin marker")
    stop = text.index(f"<!-- {name}:end -->", begin.end())
    text = text[:begin.end()] + open(os.path.join(work, name)).read() + text[stop:]
open("README.md", "w").write(text)
PY
