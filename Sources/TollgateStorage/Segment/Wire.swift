/// Appends the store's binary encodings (LEB128 varints, zigzag, little-endian fixed widths) to a byte array.
struct WireWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    @inline(__always)
    mutating func zigzag(_ value: Int64) {
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    /// An optional signed integer in one varint: 0 for nil, else its zigzag form plus one.
    mutating func optionalZigzag(_ value: Int64?) {
        guard let value else { return varint(0) }
        varint(UInt64(bitPattern: (value << 1) ^ (value >> 63)) &+ 1)
    }

    @inline(__always)
    mutating func u8(_ value: UInt8) { bytes.append(value) }

    mutating func u32(_ value: UInt32) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func u64(_ value: UInt64) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }

    mutating func raw(_ data: some Collection<UInt8>) { bytes.append(contentsOf: data) }

    /// Length varint then the bytes.
    mutating func lengthPrefixed(_ data: [UInt8]) {
        varint(UInt64(data.count))
        bytes.append(contentsOf: data)
    }

    mutating func lengthPrefixed(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    /// The bytes `varint(value)` writes.
    static func varintSize(_ value: UInt64) -> Int {
        var n = 1
        var v = value >> 7
        while v != 0 {
            n += 1
            v >>= 7
        }
        return n
    }

    mutating func id(_ id: LogIDBytes) {
        withUnsafeBytes(of: id.high.bigEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: id.low.bigEndian) { bytes.append(contentsOf: $0) }
    }
}

/// The two halves of a LogID, for writing without building its `[UInt8]` form.
struct LogIDBytes {
    var high: UInt64
    var low: UInt64
}

/// Reads the encodings `WireWriter` writes from a borrowed buffer; every read is bounds-checked and throws
/// `SegmentError.corrupt` past the end.
struct WireReader {
    let buffer: UnsafeRawBufferPointer
    var position: Int
    let end: Int

    init(_ buffer: UnsafeRawBufferPointer, from start: Int = 0, to end: Int? = nil) {
        self.buffer = buffer
        self.position = start
        self.end = end ?? buffer.count
    }

    var isAtEnd: Bool { position >= end }
    var remaining: Int { end - position }

    @inline(__always)
    mutating func u8() throws -> UInt8 {
        guard position < end else { throw SegmentError(.corrupt, "unexpected end of data") }
        let b = buffer[position]
        position += 1
        return b
    }

    @inline(__always)
    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < end else { throw SegmentError(.corrupt, "truncated varint") }
            let b = buffer[position]
            position += 1
            if shift == 63 && b > 1 { throw SegmentError(.corrupt, "varint overflows 64 bits") }
            result |= UInt64(b & 0x7F) << shift
            if b & 0x80 == 0 { return result }
            shift += 7
            if shift > 63 { throw SegmentError(.corrupt, "varint longer than 10 bytes") }
        }
    }

    @inline(__always)
    mutating func zigzag() throws -> Int64 {
        Self.unzigzag(try varint())
    }

    /// What `WireWriter.optionalZigzag` wrote.
    mutating func optionalZigzag() throws -> Int64? {
        let v = try varint()
        return v == 0 ? nil : Self.unzigzag(v - 1)
    }

    private static func unzigzag(_ v: UInt64) -> Int64 { Int64(bitPattern: v >> 1) ^ -Int64(bitPattern: v & 1) }

    mutating func u32() throws -> UInt32 {
        guard remaining >= 4 else { throw SegmentError(.corrupt, "unexpected end of data") }
        let v = buffer.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        position += 4
        return UInt32(littleEndian: v)
    }

    mutating func u64() throws -> UInt64 {
        guard remaining >= 8 else { throw SegmentError(.corrupt, "unexpected end of data") }
        let v = buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(littleEndian: v)
    }

    mutating func bigEndianU64() throws -> UInt64 {
        guard remaining >= 8 else { throw SegmentError(.corrupt, "unexpected end of data") }
        let v = buffer.loadUnaligned(fromByteOffset: position, as: UInt64.self)
        position += 8
        return UInt64(bigEndian: v)
    }

    /// A length varint, checked against what is left.
    mutating func length() throws -> Int {
        let n = try varint()
        guard n <= UInt64(remaining) else { throw SegmentError(.corrupt, "length \(n) runs past the end") }
        return Int(n)
    }

    mutating func slice(_ count: Int) throws -> UnsafeRawBufferPointer {
        guard count >= 0, count <= remaining else { throw SegmentError(.corrupt, "unexpected end of data") }
        let s = UnsafeRawBufferPointer(rebasing: buffer[position..<(position + count)])
        position += count
        return s
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        Array(try slice(count))
    }

    mutating func string(_ count: Int) throws -> String {
        String(decoding: try slice(count), as: UTF8.self)
    }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= remaining else { throw SegmentError(.corrupt, "unexpected end of data") }
        position += count
    }
}
