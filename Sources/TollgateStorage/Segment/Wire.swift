import TollgateModel

/// Appends the store's binary encodings (varints and zigzag as `Varint` writes them, little-endian fixed widths) to a
/// byte array.
struct WireWriter {
    var bytes: [UInt8]

    init(capacity: Int = 256) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) { Varint.append(value, to: &bytes) }

    @inline(__always)
    mutating func zigzag(_ value: Int64) { Varint.append(Varint.zigzag(value), to: &bytes) }

    /// Varints of `value(i)` for each i in 0..<count that `included` takes: written into scratch memory, then
    /// appended at once.
    @inline(__always)
    mutating func varints(_ count: Int, where included: (Int) -> Bool = { _ in true }, _ value: (Int) -> UInt64) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count &* Varint.maxBytes) { scratch in
            var at = 0
            for i in 0..<count where included(i) { at &+= Varint.write(value(i), to: scratch.baseAddress! + at) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[0..<at]))
        }
    }

    /// An optional signed integer in one varint: 0 for nil, else its zigzag form plus one.
    mutating func optionalZigzag(_ value: Int64?) {
        guard let value else { return varint(0) }
        varint(Varint.zigzag(value) &+ 1)
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
        guard let value = Varint.read(UInt64.self, from: buffer, at: &position, end: end) else {
            throw SegmentError(.corrupt, "varint cut short or wider than 64 bits")
        }
        return value
    }

    @inline(__always)
    mutating func zigzag() throws -> Int64 {
        Varint.unzigzag(try varint())
    }

    /// What `WireWriter.optionalZigzag` wrote.
    mutating func optionalZigzag() throws -> Int64? {
        let v = try varint()
        return v == 0 ? nil : Varint.unzigzag(v - 1)
    }

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

    /// Skips `count` varints (a varint ends at its first byte below 0x80).
    mutating func skipVarints(_ count: Int) throws {
        var left = count
        var at = position
        while left > 0 {
            guard at < end else { throw SegmentError(.corrupt, "unexpected end of data") }
            if buffer[at] < 0x80 { left -= 1 }
            at += 1
        }
        position = at
    }

    mutating func skip(_ count: Int) throws {
        guard count >= 0, count <= remaining else { throw SegmentError(.corrupt, "unexpected end of data") }
        position += count
    }
}
