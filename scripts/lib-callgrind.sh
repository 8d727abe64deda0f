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

# sigsuspend_shim: writes `$work/shim.so`, to be preloaded (LD_PRELOAD) into a gateway run under valgrind. valgrind
# 3.19 writes to the mask passed to sigsuspend, which libdispatch keeps in read-only memory (its main thread parks in
# sigsuspend): the shim hands the kernel a copy.
sigsuspend_shim() {
    cat >"$work/shim.c" <<'C'
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>
int sigsuspend(const sigset_t *mask) {
    sigset_t copy = *mask;
    return (int)syscall(SYS_rt_sigsuspend, &copy, 8);
}
C
    cc -shared -fPIC -O2 -o "$work/shim.so" "$work/shim.c"
}
