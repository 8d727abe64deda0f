import Glibc

/// An open file descriptor with the positional POSIX calls the store uses. Closed in `deinit`.
// @unchecked Sendable: the descriptor never changes after init, and pread/pwrite/fsync/fstat take explicit offsets
// and are safe to call from several threads at once; close happens only in deinit, when no one else holds it.
final class SegmentFile: @unchecked Sendable {
    let descriptor: Int32
    let path: String

    private init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit {
        close(descriptor)
    }

    static func openForReading(_ path: String) throws -> SegmentFile {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { throw SegmentError(.notFound, "no file \(path)", errno: ENOENT) }
            throw SegmentError.system("open", path: path)
        }
        return SegmentFile(descriptor: fd, path: path)
    }

    static func openForWriting(_ path: String) throws -> SegmentFile {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentError.system("open", path: path) }
        return SegmentFile(descriptor: fd, path: path)
    }

    /// Creates a new file; fails if it exists.
    static func create(_ path: String) throws -> SegmentFile {
        let fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SegmentError.system("create", path: path) }
        return SegmentFile(descriptor: fd, path: path)
    }

    func size() throws -> UInt64 {
        var st = stat()
        guard fstat(descriptor, &st) == 0 else { throw SegmentError.system("fstat", path: path) }
        return UInt64(st.st_size)
    }

    /// Reads up to `count` bytes at `offset`; fewer only at end of file.
    func read(count: Int, at offset: UInt64) throws -> [UInt8] {
        guard count > 0 else { return [] }
        var buffer = [UInt8](repeating: 0, count: count)
        let got = try buffer.withUnsafeMutableBytes { try read(into: $0, at: offset) }
        if got < count { buffer.removeSubrange(got...) }
        return buffer
    }

    /// Fills `buffer` from `offset`; returns the number of bytes read (less than the buffer only at end of file).
    func read(into buffer: UnsafeMutableRawBufferPointer, at offset: UInt64) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = pread(descriptor, buffer.baseAddress! + done, buffer.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SegmentError.system("pread", path: path)
            }
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Writes all of `bytes` at `offset`.
    func write(_ bytes: UnsafeRawBufferPointer, at offset: UInt64) throws {
        var done = 0
        while done < bytes.count {
            let n = pwrite(descriptor, bytes.baseAddress! + done, bytes.count - done, off_t(offset) + off_t(done))
            if n < 0 {
                if errno == EINTR { continue }
                throw SegmentError.system("pwrite", path: path)
            }
            done += n
        }
    }

    func write(_ bytes: [UInt8], at offset: UInt64) throws {
        try bytes.withUnsafeBytes { try write($0, at: offset) }
    }

    func sync() throws {
        guard fsync(descriptor) == 0 else { throw SegmentError.system("fsync", path: path) }
    }

    func truncate(to length: UInt64) throws {
        guard ftruncate(descriptor, off_t(length)) == 0 else { throw SegmentError.system("ftruncate", path: path) }
    }
}

/// Directory operations of the store: create, list, fsync, atomic replace.
enum SegmentDirectory {
    /// Creates `path` (and missing parents) if missing, and fsyncs each parent it added an entry to.
    static func ensure(_ path: String) throws {
        if mkdir(path, 0o755) == 0 {
            try sync(parent(of: path))
        } else if errno == ENOENT && parent(of: path) != path {
            try ensure(parent(of: path))
            try ensure(path)
        } else if errno != EEXIST {
            throw SegmentError.system("mkdir", path: path)
        }
    }

    static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SegmentError.system("open directory", path: path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SegmentError.system("fsync directory", path: path) }
    }

    static func list(_ path: String) throws -> [String] {
        guard let dir = opendir(path) else { throw SegmentError.system("opendir", path: path) }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafePointer(to: entry.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Writes `bytes` to `path` durably and atomically: temp file, fsync, rename, fsync of the directory.
    static func writeAtomically(_ bytes: [UInt8], to path: String, directory: String) throws {
        let temp = path + ".tmp"
        unlink(temp)
        let file = try SegmentFile.create(temp)
        try file.write(bytes, at: 0)
        try file.sync()
        guard rename(temp, path) == 0 else { throw SegmentError.system("rename", path: temp) }
        try sync(directory)
    }

    static func readWhole(_ path: String) throws -> [UInt8] {
        let file = try SegmentFile.openForReading(path)
        return try file.read(count: Int(file.size()), at: 0)
    }

    /// Deletes the files of `path` whose name ends with `suffix` (none when the folder is missing), then fsyncs
    /// the folder if it deleted any.
    static func removeFiles(in path: String, endingWith suffix: String) throws {
        guard access(path, F_OK) == 0 else { return }
        var removed = false
        for name in try list(path) where name.hasSuffix(suffix) {
            try remove(path + "/" + name)
            removed = true
        }
        if removed { try sync(path) }
    }

    static func remove(_ path: String) throws {
        guard unlink(path) == 0 || errno == ENOENT else { throw SegmentError.system("unlink", path: path) }
    }

    static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        let p = String(path[..<slash])
        return p.isEmpty ? "/" : p
    }
}
