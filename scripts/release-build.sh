#!/usr/bin/env bash
# Builds Tollgate's products for release, as every script that runs or measures a release binary does:
#
#   scripts/release-build.sh [product ...]   # default: tollgate
#
# `-enforce-exclusivity=unchecked` reaches every module here, the packages' as well as Tollgate's own (which
# Package.swift already compiles so in release builds): SwiftPM gives a package no way to set its dependencies' flags.
# Without it SwiftNIO's classes check each access to a stored property at run time, about 9,000 instructions of a
# proxied request (README, "Exclusivity checks off in every module of a release build"). Debug builds, which run the
# tests, keep the checks everywhere. A plain `swift build -c release` builds the same program with the checks on.
#
# `-cross-module-optimization` lets the optimizer inline and specialize across module boundaries beyond what the
# modules mark `@inlinable` (a call from the proxy into TollgateModel's header lists, NIO's generic code used with
# Tollgate's types): about 2 % of a proxied request's instructions (README, "Cross-module optimization").
#
# `-static-stdlib` links the Swift runtime and Foundation into the binary: it runs on a machine without the Swift
# toolchain (only Debian's libzstd, libsqlite3 and libstdc++ beside libc), at the same cost per request (README, "The
# Swift runtime linked into the binary").
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- tollgate
for product in "$@"; do
    swift build -c release -Xswiftc -enforce-exclusivity=unchecked -Xswiftc -cross-module-optimization \
        -Xswiftc -static-stdlib --product "$product"
done
