/// Appends LEB128 varints to a byte array: the encoding of every rollup column (see LAYOUT.md).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func unsigned(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    /// Zigzag, so small negative numbers (from `replace`) stay short.
    mutating func signed(_ value: Int64) {
        unsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func unsigned128(_ value: UInt128) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func signed128(_ value: Int128) {
        unsigned128(UInt128(bitPattern: (value << 1) ^ (value >> 127)))
    }
}

/// Reads what `ByteWriter` wrote. Malformed input (a truncated blob) throws instead of trapping.
struct ByteReader {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var isAtEnd: Bool { position >= bytes.count }

    @inline(__always)
    mutating func unsigned() throws(RollupError) -> UInt64 {
        // Most values (bucket numbers, index deltas, small counts) are one byte.
        if position < bytes.count {
            let byte = bytes[position]
            if byte < 0x80 {
                position += 1
                return UInt64(byte)
            }
        }
        return try unsignedMultibyte()
    }

    private mutating func unsignedMultibyte() throws(RollupError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            guard position < bytes.count, shift < 64 else { throw .corruptChunk("truncated varint") }
            let byte = bytes[position]
            position += 1
            result |= UInt64(byte & 0x7f) << shift
            if byte < 0x80 { return result }
            shift += 7
        }
    }

    @inline(__always)
    mutating func signed() throws(RollupError) -> Int64 {
        let raw = try unsigned()
        return Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
    }

    /// Adds `count` zigzag varints to `target[start..<start + count]` (and to their `blocks` sums) and returns their sum; nil when the bytes run out. The tight
    /// loop of query-time sketch merging.
    mutating func addSignedRun(
        into target: UnsafeMutablePointer<Int64>, blocks: UnsafeMutablePointer<Int64>, start: Int, count: Int
    ) -> Int64? {
        let end: (Int, Int64)? = bytes.withUnsafeBufferPointer { b in
            var p = position
            var sum: Int64 = 0
            for k in 0..<count {
                guard p < b.count else { return nil }
                var byte = b[p]
                p += 1
                var raw = UInt64(byte & 0x7f)
                var shift: UInt64 = 7
                while byte >= 0x80 {
                    guard p < b.count, shift < 64 else { return nil }
                    byte = b[p]
                    p += 1
                    raw |= UInt64(byte & 0x7f) << shift
                    shift += 7
                }
                let value = Int64(bitPattern: (raw >> 1) ^ (0 &- (raw & 1)))
                target[start + k] &+= value
                blocks[(start + k) >> SketchAccumulator.blockShift] &+= value
                sum &+= value
            }
            return (p, sum)
        }
        guard let end else { return nil }
        position = end.0
        return end.1
    }

    /// Steps over `count` varints without decoding them: a varint ends at each byte below 0x80.
    mutating func skipVarints(_ count: Int) throws(RollupError) {
        let end: Int? = bytes.withUnsafeBufferPointer { b in
            var p = position
            var left = count
            while left > 0 {
                guard p < b.count else { return nil }
                if b[p] < 0x80 { left -= 1 }
                p += 1
            }
            return p
        }
        guard let end else { throw .corruptChunk("truncated varint") }
        position = end
    }

    mutating func signed128() throws(RollupError) -> Int128 {
        var result: UInt128 = 0
        var shift: UInt128 = 0
        while true {
            guard position < bytes.count, shift < 128 else { throw .corruptChunk("truncated varint") }
            let byte = bytes[position]
            position += 1
            result |= UInt128(byte & 0x7f) << shift
            if byte < 0x80 { break }
            shift += 7
        }
        return Int128(bitPattern: (result >> 1) ^ (0 &- (result & 1)))
    }
}
