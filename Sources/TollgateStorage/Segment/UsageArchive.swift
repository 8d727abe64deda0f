import Glibc
import TollgateModel

/// The usage records of a segment that compaction dropped whole (see FORMAT.md, *Usage archives*).
///
/// When every log of a sealed segment is deleted or expired, nothing of it is read again except what billing
/// needs. Compaction then drops the segment file and keeps, in `usage/<seq>.usage`, the usage record of each of
/// its requests with the location it had, compressed together in one zstd frame: about 40 bytes a request, less
/// than half of what the same usage records take as separate frames in a segment. A replay (rollup rebuild) reads
/// an archive in place of its segment, at the same positions, so rollups rebuilt after a drop are the rollups from
/// before it.
public enum UsageArchive {
    /// One archived request: its usage record and where its record was in the dropped segment.
    public struct Entry: Sendable, Equatable {
        public var location: RecordLocation
        public var record: LogRecord
    }

    static let directory = "usage"
    static let magic: [UInt8] = Array("TGUA".utf8)
    static let version: UInt8 = 1
    static let headerSize = 40
    static let pendingSuffix = ".new"
    /// zstd level: archives are written once and read only by rebuilds, so a slower, tighter level pays.
    static let compressionLevel: Int32 = 9

    /// `00000042.usage`
    static func fileName(_ segment: UInt32) -> String { SegmentFormat.numberedName(segment, extension: "usage") }

    static func path(_ directory: String, _ segment: UInt32) -> String {
        directory + "/" + Self.directory + "/" + fileName(segment)
    }

    /// The segments whose archive is in place in the data folder `directory`, ascending.
    static func segments(in directory: String) throws -> [UInt32] {
        let folder = directory + "/" + Self.directory
        guard access(folder, F_OK) == 0 else { return [] }
        return try SegmentDirectory.list(folder).compactMap { SegmentFormat.number(fromName: $0, extension: "usage") }
            .sorted()
    }

    /// An archive being collected: entries are encoded as they come (a few dozen bytes of memory each, not a
    /// decoded record), compressed and written at the end.
    struct Builder {
        let segment: UInt32
        private(set) var count = 0
        private var body = WireWriter(capacity: 1 << 20)

        init(segment: UInt32) { self.segment = segment }

        /// Adds one request: its usage record, and where its record was in the segment.
        mutating func append(_ record: LogRecord, at location: RecordLocation) {
            let encoded = RecordCodec.encode(record)
            body.varint(location.offset)
            body.varint(UInt64(location.length))
            body.lengthPrefixed(encoded)
            count += 1
        }

        /// The entries added so far, decoded again.
        func entries() throws -> [Entry] {
            try UsageArchive.decodeEntries(body.bytes, count: count, segment: segment)
        }

        /// The archive file: header, then one zstd frame of (offset, length, record size, record) per entry.
        func encoded() throws -> [UInt8] {
            let compressed = try ZstdCompressor(level: compressionLevel, contentChecksum: true).compress(body.bytes)
            var w = WireWriter(capacity: headerSize + compressed.count)
            w.raw(magic)
            w.u8(version)
            w.raw([0, 0, 0])
            w.u32(segment)
            w.u32(UInt32(count))
            w.u64(UInt64(body.bytes.count))
            w.u64(UInt64(compressed.count))
            w.u32(CRC32C.checksum(compressed))
            w.u32(w.bytes.withUnsafeBytes { CRC32C.checksum($0) })
            w.raw(compressed)
            return w.bytes
        }

        /// Writes `usage/<seq>.usage.new` and fsyncs it and `usage/`; `UsageArchive.install` renames it into place
        /// once the catalog committed the drop. Returns the file's size.
        func writePending(directory: String) throws -> Int {
            let folder = directory + "/" + UsageArchive.directory
            try SegmentDirectory.ensure(folder)
            let bytes = try encoded()
            let pending = path(directory, segment) + pendingSuffix
            try SegmentDirectory.remove(pending)
            let file = try SegmentFile.create(pending)
            try file.write(bytes, at: 0)
            try file.sync()
            try SegmentDirectory.sync(folder)
            return bytes.count
        }
    }

    /// Decodes an archive file of `segment`; anything that does not verify is an error.
    static func decode(_ bytes: [UInt8], segment: UInt32) throws -> [Entry] {
        func corrupt(_ what: String) -> SegmentError {
            SegmentError(.corrupt, "usage archive of segment \(segment): \(what)")
        }
        guard bytes.count >= headerSize, Array(bytes[0..<4]) == magic else { throw corrupt("no header") }
        return try bytes.withUnsafeBytes { buffer in
            var header = WireReader(buffer, from: 8)
            let seq = try header.u32()
            let count = Int(try header.u32())
            let rawLength = try header.u64()
            let compressedLength = try header.u64()
            let payloadCRC = try header.u32()
            let headerCRC = try header.u32()
            guard headerCRC == CRC32C.checksum(UnsafeRawBufferPointer(rebasing: buffer[0..<36])) else {
                throw corrupt("header checksum")
            }
            guard bytes[4] == version else {
                throw SegmentError(
                    .unsupportedVersion, "usage archive format version \(bytes[4]), this build reads \(version)")
            }
            guard seq == segment else { throw corrupt("names segment \(seq)") }
            guard compressedLength == UInt64(buffer.count - headerSize), rawLength <= UInt64(Int32.max) else {
                throw corrupt("length")
            }
            let payload = UnsafeRawBufferPointer(rebasing: buffer[headerSize...])
            guard CRC32C.checksum(payload) == payloadCRC else { throw corrupt("payload checksum") }
            let body = try ZstdDecompressor().decompress(payload, maxContentSize: Int(rawLength))
            guard body.count == Int(rawLength) else { throw corrupt("length") }
            return try decodeEntries(body, count: count, segment: segment)
        }
    }

    /// The `count` entries of a decompressed archive body.
    static func decodeEntries(_ body: [UInt8], count: Int, segment: UInt32) throws -> [Entry] {
        func corrupt(_ what: String) -> SegmentError {
            SegmentError(.corrupt, "usage archive of segment \(segment): \(what)")
        }
        // An entry takes at least three bytes (its three varints): a count the body cannot hold is corruption, and is
        // refused before it sizes an allocation.
        guard count >= 0, count <= body.count / 3 else { throw corrupt("\(count) entries in \(body.count) bytes") }
        var entries: [Entry] = []
        entries.reserveCapacity(count)
        try body.withUnsafeBytes { raw in
            var r = WireReader(raw)
            for _ in 0..<count {
                let offset = try r.varint()
                let length = try r.varint()
                guard length <= UInt64(UInt32.max) else { throw corrupt("record length") }
                let record = try RecordCodec.decode(try r.slice(try r.length()))
                entries.append(
                    Entry(
                        location: RecordLocation(segment: segment, offset: offset, length: UInt32(length)),
                        record: record))
            }
            guard r.isAtEnd else { throw corrupt("bytes after the last entry") }
        }
        return entries
    }

    /// The archived requests of `segment` in the data folder `directory`, in their old order.
    public static func read(segment: UInt32, directory: String) throws -> [Entry] {
        try decode(SegmentDirectory.readWhole(path(directory, segment)), segment: segment)
    }

    /// How many requests the archive of `segment` holds (reads the header only).
    static func count(segment: UInt32, directory: String) throws -> Int {
        let header = try SegmentFile.openForReading(path(directory, segment)).read(count: headerSize, at: 0)
        guard header.count == headerSize else { return 0 }
        return try header.withUnsafeBytes {
            var r = WireReader($0, from: 12)
            return Int(try r.u32())
        }
    }

    /// Renames the pending archive of `segment` into place and fsyncs `usage/`; false when there is none (it was
    /// renamed already).
    @discardableResult
    static func install(segment: UInt32, directory: String) throws -> Bool {
        let target = path(directory, segment)
        let pending = target + pendingSuffix
        guard access(pending, F_OK) == 0 else { return false }
        guard rename(pending, target) == 0 else { throw SegmentError.system("rename", path: pending) }
        try SegmentDirectory.sync(directory + "/" + Self.directory)
        return true
    }

    /// Deletes pending archives no committed drop names (a crash before the commit: the segment is the truth).
    static func removeUncommitted(directory: String) throws {
        try SegmentDirectory.removeFiles(in: directory + "/" + Self.directory, endingWith: ".usage" + pendingSuffix)
    }
}
