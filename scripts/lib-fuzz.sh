# Shared by the fuzz scripts (source it after `cd` to the repository root): builds a libFuzzer harness from Fuzz/
# together with the sources it fuzzes, as one module with the address sanitizer, and runs it for a bounded time.
#
#   fuzz_setup NAME                      $out = .build/NAME, with a fresh $src and a $corpus kept between runs
#   fuzz_sources FILE...                 copies sources into $src without their module imports
#   fuzz_build MODULE HARNESS [ARG...]   compiles Fuzz/HARNESS with $src into $out/MODULE (extra swiftc arguments)
#   fuzz_crc32c                          compiles Sources/CCRC32C (the checksum's C part) and prints the swiftc
#                                        arguments that import and link it
#   fuzz_seed                            lets the harness write seeds of real encodings into $corpus ($FUZZ_SEEDS)
#   fuzz_run SECONDS [ARG...]            fuzzes for SECONDS with $corpus (extra libFuzzer arguments); an input that
#                                        crashes is written to $out/crash-*
#
# Swift's own backtracer is off in the harnesses: libFuzzer reports a crash itself, and the backtracer, reading
# memory under the address sanitizer, can hang instead of ending the run.
set -euo pipefail

fuzz_setup() {
    out=".build/$1"
    src="$out/src"
    corpus="$out/corpus"
    rm -rf "$src"
    mkdir -p "$corpus" "$src"
}

fuzz_sources() {
    local f
    for f in "$@"; do
        sed -e '/^import TollgateModel$/d' "$f" > "$src/$(echo "$f" | tr '/' '_')"
    done
}

# The model's sources, without the request signing (which needs the crypto packages).
fuzz_model_sources() {
    # shellcheck disable=SC2046
    fuzz_sources $(find Sources/TollgateModel -name '*.swift' -not -path '*/Signing/*' | sort)
}

fuzz_build() {
    local module="$1" harness="$2"
    shift 2
    binary="$out/$module"
    local sources=("$src"/*.swift)
    [ -e "${sources[0]}" ] || sources=()
    swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name "$module" "$@" \
        "Fuzz/$harness" "${sources[@]}" -o "$binary"
}

fuzz_crc32c() {
    clang -O2 -c Sources/CCRC32C/crc32c.c -I Sources/CCRC32C/include -o "$out/crc32c.o"
    echo "-I Sources/CCRC32C/include $out/crc32c.o"
}

fuzz_seed() {
    SWIFT_BACKTRACE=enable=no FUZZ_SEEDS="$corpus" "$binary" -runs=0 -artifact_prefix="$out/" "$corpus" >/dev/null 2>&1 || true
}

fuzz_run() {
    local seconds="$1"
    shift
    SWIFT_BACKTRACE=enable=no "$binary" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
        -artifact_prefix="$out/" "$@" "$corpus"
}
