import Glibc

/// A size-limited tmpfs, mounted for one test: a real full disk, which the store must survive without a restart.
struct TmpfsMount {
    let path: String

    init(size: String) throws {
        path = makeTemporaryDirectory()
        let result = "size=\(size)".withCString { mount("tmpfs", path, "tmpfs", 0, $0) }
        guard result == 0 else {
            let reason = String(cString: strerror(errno))
            rmdir(path)
            throw HarnessError("mount -t tmpfs -o size=\(size) \(path): \(reason)")
        }
    }

    /// `mount -o remount,size=…`: the filesystem grows (or shrinks) in place.
    func resize(_ size: String) throws {
        let result = "size=\(size)".withCString { mount("tmpfs", path, "tmpfs", UInt(MS_REMOUNT), $0) }
        guard result == 0 else { throw HarnessError("remount \(path): \(String(cString: strerror(errno)))") }
    }

    /// Unmounts (lazily, should a file still be open) and removes the mount point.
    func unmount() {
        umount2(path, Int32(MNT_DETACH))
        rmdir(path)
    }

    /// Whether this process may mount a tmpfs (root, or CAP_SYS_ADMIN): tried once with a 1 MB one.
    static let isPossible: Bool = {
        guard let probe = try? TmpfsMount(size: "1m") else { return false }
        probe.unmount()
        return true
    }()
}
