import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on a data folder (`flock` on `<folder>/lock`), so two processes never write the same segments:
/// `tollgate serve` and a writing command (`generate`, `reprice`, `rebuild-rollups`) on one folder would corrupt it.
/// The kernel drops the lock when the process dies, so a crash never leaves the folder locked.
final class DataFolderLock: Sendable {
    private let descriptor: Mutex<Int32>

    init(directory: String) throws {
        let path = directory + "/lock"
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw CatalogError(code: .invalidValue, message: "cannot open \(path): errno \(errno)")
        }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            close(fd)
            throw CatalogError(
                code: .dataFolderInUse,
                message: "the data folder \(directory) is in use by another tollgate process; stop it first")
        }
        descriptor = Mutex(fd)
    }

    /// Releases the lock (idempotent).
    func release() {
        descriptor.withLock { fd in
            guard fd >= 0 else { return }
            close(fd)
            fd = -1
        }
    }

    deinit { release() }
}
