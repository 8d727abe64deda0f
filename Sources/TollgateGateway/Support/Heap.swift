#if os(Linux)
    import CMalloc
    import Glibc
#endif

/// The C allocator's settings for a long-running gateway (glibc; elsewhere these do nothing).
///
/// Left alone, glibc raises its mmap and trim thresholds each time a large block is freed (up to 32 MiB and
/// twice that), and a gateway under load kept tens of megabytes of freed memory in its arenas: after 20 s of wrk at
/// 32 connections, 76 MB of anonymous memory, 41 MB after one `malloc_trim` called from gdb (README, Benchmarks,
/// *Memory*).
enum Heap {
    /// Blocks from 256 KiB up (a segment's columns, a batch's arrays) get pages of their own, given back when freed,
    /// and an arena's free top is given back beyond 256 KiB: fixed thresholds, which glibc then no longer raises.
    /// Threads share as many arenas as there are cores (glibc allows eight a core), so fewer half-used arenas hold
    /// freed memory: `scripts/bench-memory.sh 60` on two cores, peak RSS 61.8–63.1 MB in three runs with glibc's
    /// default (a dozen arenas), 60.9–62.6 MB in five with two, at the same speed. `MALLOC_ARENA_MAX`, when set,
    /// decides instead.
    static func configure() {
        #if os(Linux)
            _ = mallopt(M_MMAP_THRESHOLD, 256 << 10)
            _ = mallopt(M_TRIM_THRESHOLD, 256 << 10)
            if getenv("MALLOC_ARENA_MAX") == nil {
                _ = mallopt(M_ARENA_MAX, Int32(clamping: max(2, sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
            }
        #endif
    }

    /// Gives the free pages inside every arena back to the system (`malloc_trim`): freed small blocks between live
    /// ones are otherwise kept for reuse. The ingest service calls it every few seconds on the store's thread.
    static func release() {
        #if os(Linux)
            _ = malloc_trim(0)
        #endif
    }
}
