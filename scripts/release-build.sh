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
#
# The binary is linked by lld (the toolchain's) with two flags that shrink what the loader reads and keeps mapped at
# start (README, "What the binary maps at start"):
# - `-z pack-relative-relocs`: the 124,000 pointers the loader adjusts to where the binary was mapped are listed as
#   bitmaps (25 KB) instead of one 24-byte entry each (3 MB, read whole at every start).
# - `--no-export-dynamic`: the static Swift runtime's link arguments export every symbol of the binary (43,000 names,
#   3.7 MB of tables that every symbol lookup of the shared libraries searches first). Nothing looks them up: the only
#   `dlsym` a serving gateway makes is the Swift runtime's probe for a libdispatch hook this libdispatch does not have.
#
# Every function is compiled into a section of its own (`-function-sections`, Swift and C), and the linker places the
# functions scripts/link-order.txt lists (those a serving gateway runs, written by scripts/link-order.sh) first and
# together (README, "The code a serving gateway runs, placed together"), and the functions without a symbol, which
# no such list can name, beside them (scripts/link-local-functions.ld). SwiftPM knows neither file: after one
# changes, a build that has nothing to recompile keeps the old layout until the binary is linked again (delete the
# binary to have it linked).
# An existing build folder keeps objects compiled without function sections until their code changes (the compiler
# skips writing an object whose code is unchanged); a clean build has them all.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- tollgate
for product in "$@"; do
    swift build -c release -Xswiftc -enforce-exclusivity=unchecked -Xswiftc -cross-module-optimization \
        -Xswiftc -static-stdlib -Xswiftc -use-ld=lld -Xlinker -z -Xlinker pack-relative-relocs \
        -Xlinker --no-export-dynamic -Xswiftc -Xfrontend -Xswiftc -function-sections -Xcc -ffunction-sections \
        -Xlinker "--symbol-ordering-file=$PWD/scripts/link-order.txt" -Xlinker --no-warn-symbol-ordering \
        -Xlinker -T -Xlinker "$PWD/scripts/link-local-functions.ld" \
        --product "$product"
done
