#!/usr/bin/env bash
# Rewrites Sources/TollgateGateway/API/openapi.json, the committed copy of the OpenAPI document, from the route declarations, as
# printed by `tollgate openapi` (and served at GET /api/v1/openapi.json). A test fails while the two disagree.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build --product tollgate >/dev/null
"$(swift build --show-bin-path)/tollgate" openapi > Sources/TollgateGateway/API/openapi.json
