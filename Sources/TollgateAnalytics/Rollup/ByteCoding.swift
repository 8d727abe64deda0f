import TollgateModel

/// Appends varints (`Varint`) to a byte array: the encoding of every rollup column (see LAYOUT.md).
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func unsigned(_ value: UInt64) { Varint.append(value, to: &bytes) }

    /// Zigzag, so small negative numbers (from `replace`) stay short.
    mutating func signed(_ value: Int64) { Varint.append(Varint.zigzag(value), to: &bytes) }

    mutating func signed128(_ value: Int128) { Varint.append(Varint.zigzag(value), to: &bytes) }
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
        guard let value = Varint.read(UInt64.self, from: bytes, at: &position, end: bytes.count) else {
            throw .corruptChunk("varint cut short or wider than 64 bits")
        }
        return value
    }

    @inline(__always)
    mutating func signed() throws(RollupError) -> Int64 {
        Varint.unzigzag(try unsigned())
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
                guard let raw = Varint.read(UInt64.self, from: b, at: &p, end: b.count) else { return nil }
                let value = Varint.unzigzag(raw)
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
        guard let raw = Varint.read(UInt128.self, from: bytes, at: &position, end: bytes.count) else {
            throw .corruptChunk("varint cut short or wider than 128 bits")
        }
        return Varint.unzigzag(raw)
    }
}
