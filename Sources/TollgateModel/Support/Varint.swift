/// LEB128 varints and zigzag: the one integer encoding of Tollgate's binary formats (segment records, column
/// blocks, the id index, usage archives, rollup chunks and sketches; FORMAT.md and LAYOUT.md). Seven bits a byte,
/// low bits first, the high bit set on every byte but the last. The storage's and the rollups' readers and writers
/// carry their own errors and fixed-width fields around these functions; the bytes are written and read here only.
public enum Varint {
    /// The most bytes a 64-bit varint takes.
    public static let maxBytes = 10

    /// The bytes `value` takes.
    @inlinable
    public static func size(_ value: UInt64) -> Int {
        var n = 1
        var v = value >> 7
        while v != 0 {
            n += 1
            v >>= 7
        }
        return n
    }

    /// Appends `value`.
    @inlinable @inline(__always)
    public static func append<V: FixedWidthInteger & UnsignedInteger>(_ value: V, to bytes: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(truncatingIfNeeded: v))
    }

    /// Writes `value` at `base`, which has room for `maxBytes`, and returns the bytes written.
    @inlinable @inline(__always)
    public static func write(_ value: UInt64, to base: UnsafeMutablePointer<UInt8>) -> Int {
        var v = value
        var n = 0
        while v >= 0x80 {
            base[n] = UInt8(truncatingIfNeeded: v) | 0x80
            n += 1
            v >>= 7
        }
        base[n] = UInt8(truncatingIfNeeded: v)
        return n + 1
    }

    /// Reads a varint from `bytes[position..<end]` and moves `position` past it; nil, with `position` anywhere up to
    /// `end`, when the bytes end inside it or it does not fit in `V` (a canonical writer never makes either).
    @inlinable @inline(__always)
    public static func read<V: FixedWidthInteger & UnsignedInteger, Bytes: RandomAccessCollection<UInt8>>(
        _: V.Type, from bytes: Bytes, at position: inout Int, end: Int
    ) -> V? where Bytes.Index == Int {
        // Most values (lengths, deltas, small counts, tags) are one byte.
        if position < end {
            let byte = bytes[position]
            if byte < 0x80 {
                position += 1
                return V(truncatingIfNeeded: byte)
            }
        }
        return readMultibyte(V.self, from: bytes, at: &position, end: end)
    }

    @inlinable
    static func readMultibyte<V: FixedWidthInteger & UnsignedInteger, Bytes: RandomAccessCollection<UInt8>>(
        _: V.Type, from bytes: Bytes, at position: inout Int, end: Int
    ) -> V? where Bytes.Index == Int {
        var result: V = 0
        var shift = 0
        while position < end {
            let byte = bytes[position]
            position += 1
            let payload = V(truncatingIfNeeded: byte & 0x7F)
            if shift > V.bitWidth - 7 {
                // The last byte that fits: no continuation, and no bits past the width.
                guard byte < 0x80, payload >> (V.bitWidth - shift) == 0 else { return nil }
            }
            result |= payload &<< shift
            if byte < 0x80 { return result }
            shift += 7
        }
        return nil
    }

    /// Signed to unsigned so that small magnitudes of either sign stay short: 0, -1, 1, -2 → 0, 1, 2, 3.
    @inlinable @inline(__always)
    public static func zigzag(_ value: Int64) -> UInt64 { UInt64(bitPattern: (value << 1) ^ (value >> 63)) }

    @inlinable @inline(__always)
    public static func unzigzag(_ value: UInt64) -> Int64 { Int64(bitPattern: (value >> 1) ^ (0 &- (value & 1))) }

    @inlinable @inline(__always)
    public static func zigzag(_ value: Int128) -> UInt128 { UInt128(bitPattern: (value << 1) ^ (value >> 127)) }

    @inlinable @inline(__always)
    public static func unzigzag(_ value: UInt128) -> Int128 { Int128(bitPattern: (value >> 1) ^ (0 &- (value & 1))) }
}
