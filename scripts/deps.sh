#!/usr/bin/env bash
# Installs the system packages Tollgate builds against (Debian/Ubuntu), when they are missing.
set -euo pipefail
need=()
for pkg in libsqlite3-dev libzstd-dev pkg-config "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "installing: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
