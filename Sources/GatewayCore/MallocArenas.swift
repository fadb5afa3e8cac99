#if canImport(Glibc)
import CMalloc
#endif

/// How many malloc arenas the daemon's threads share.
///
/// glibc gives a thread that meets contention an arena of its own, up to eight per core, and
/// memory freed into one arena is never handed out by another. The daemon's work hops between
/// its event loop, IRC loop and pool threads, so each arena kept the peak of what passed through
/// it. Two arenas, measured with 300 IRC connections: 18.6–20.0 → 14.3–14.8 KiB resident per
/// connection, with no measurable change in CPU per message (docs/benchmarks.md).
public enum MallocArenas {
    /// Limits the arenas to `count`. Call first thing in `main`, before other threads allocate:
    /// a thread keeps the arena it was given.
    public static func limit(to count: Int32 = 2) {
        #if canImport(Glibc)
        _ = mallopt(M_ARENA_MAX, count)
        #endif
    }
}
