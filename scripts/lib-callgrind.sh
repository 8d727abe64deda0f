# Shared by the scripts that count instructions with valgrind (`source scripts/lib-callgrind.sh`).

# measured_copy PRODUCT [BINARY]: sets `bin` to BINARY (default: a release build of PRODUCT, built now) and `work` to a
# new temporary folder holding `$work/PRODUCT`, a copy valgrind can read: valgrind 3.19 cannot read the DWARF 5 the
# Swift toolchain emits, so the measured copy keeps its symbols only.
measured_copy() {
    local product=$1
    if [ -n "${2:-}" ]; then
        bin=$2
    else
        scripts/release-build.sh "$product" >/dev/null
        bin=.build/release/$product
    fi
    work=$(mktemp -d)
    objcopy --strip-debug "$bin" "$work/$product"
}
