#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

extension MasterKey {
    /// Writes a new master key file readable by its owner only from the moment it exists: a temporary file beside it
    /// created with mode 0600, written and synced, then renamed into place, so a crash leaves either no key file or
    /// a whole one. (`FileManager.createFile` writes its temporary file with the umask's mode, 0644 under the usual
    /// umask, and narrows it to the requested mode only after the rename.) `created` is called with the temporary
    /// file's path once it exists and before any byte is written.
    static func writeOwnerOnly(_ bytes: [UInt8], to path: String, created: (String) -> Void = { _ in }) throws {
        let temporary = path + ".new"
        // A temporary file a crash left behind is replaced; O_EXCL then refuses anything that appears meanwhile.
        unlink(temporary)
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw Failure("cannot create the master key file \(temporary): errno \(errno)") }
        created(temporary)
        var written = 0
        var ok = true
        bytes.withUnsafeBytes { raw in
            while ok && written < raw.count {
                let n = write(fd, raw.baseAddress! + written, raw.count - written)
                if n > 0 { written += n } else if n < 0 && errno == EINTR { continue } else { ok = false }
            }
        }
        ok = ok && fsync(fd) == 0
        close(fd)
        guard ok, rename(temporary, path) == 0 else {
            unlink(temporary)
            throw Failure("cannot write the master key file \(path): errno \(errno)")
        }
    }
}
