/// Signed integers kept in the fewest bytes that hold every value appended so far (1, 2, 4 or 8 bytes each), widened
/// when a value needs more. The decoded columns of a segment are mostly small numbers — status codes, token counts,
/// attempts, string codes — so a row's integers take a byte or two each instead of eight: the columns of the
/// segment being written and of the sealed segments a listing keeps decoded are the gateway's largest heap.
#if _endian(big)
    #error("PackedIntegers reads values in the machine's order and writes them little-endian")
#endif

struct PackedIntegers: Sendable {
    /// The values, `width` bytes each, in the machine's byte order.
    private var bytes: [UInt8] = []
    /// Bytes per value: 1, 2, 4 or 8.
    private(set) var width = 1
    private(set) var count = 0
    /// Rows room was asked for (`reserveCapacity`), kept so a widening reserves for them too.
    private var reservedRows = 0

    init() {}

    init(repeating value: Int64, count: Int) {
        width = Self.width(of: value)
        reserveCapacity(count)
        for _ in 0..<count { append(value) }
    }

    @inline(__always)
    subscript(row: Int) -> Int64 {
        precondition(row >= 0 && row < count, "row out of range")
        return bytes.withUnsafeBytes { raw in
            switch width {
            case 1: Int64(raw.load(fromByteOffset: row, as: Int8.self))
            case 2: Int64(raw.loadUnaligned(fromByteOffset: row &<< 1, as: Int16.self))
            case 4: Int64(raw.loadUnaligned(fromByteOffset: row &<< 2, as: Int32.self))
            default: raw.loadUnaligned(fromByteOffset: row &<< 3, as: Int64.self)
            }
        }
    }

    mutating func reserveCapacity(_ rows: Int) {
        reservedRows = max(reservedRows, rows)
        bytes.reserveCapacity(rows * width)
    }

    mutating func append(_ value: Int64) {
        let needed = Self.width(of: value)
        if needed > width { widen(to: needed) }
        Self.put(value, width: width, into: &bytes)
        count += 1
    }

    /// Appends `values`, widened once to the bytes the widest needs and written in place, a loop for each width.
    mutating func append(contentsOf values: UnsafeBufferPointer<Int64>) {
        var needed = width
        for value in values where needed < 8 { needed = max(needed, Self.width(of: value)) }
        if needed > width { widen(to: needed) }
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: values.count &* width))
        bytes.withUnsafeMutableBytes { raw in
            func store<T: FixedWidthInteger>(_: T.Type) {
                for (k, value) in values.enumerated() {
                    raw.storeBytes(
                        of: T(truncatingIfNeeded: value), toByteOffset: start &+ k &* MemoryLayout<T>.size, as: T.self)
                }
            }
            switch width {
            case 1: store(Int8.self)
            case 2: store(Int16.self)
            case 4: store(Int32.self)
            default: store(Int64.self)
            }
        }
        count += values.count
    }

    /// The bytes a value needs.
    @inline(__always)
    static func width(of value: Int64) -> Int {
        if Int64(Int8(truncatingIfNeeded: value)) == value { return 1 }
        if Int64(Int16(truncatingIfNeeded: value)) == value { return 2 }
        if Int64(Int32(truncatingIfNeeded: value)) == value { return 4 }
        return 8
    }

    /// Appends the low `width` bytes of `value`, least significant first: the machine's order, as the subscript
    /// reads them (every platform Tollgate builds for is little-endian).
    @inline(__always)
    private static func put(_ value: Int64, width: Int, into bytes: inout [UInt8]) {
        var shift: Int64 = 0
        for _ in 0..<width {
            bytes.append(UInt8(truncatingIfNeeded: value &>> shift))
            shift &+= 8
        }
    }

    private mutating func widen(to newWidth: Int) {
        var wider: [UInt8] = []
        wider.reserveCapacity(max(reservedRows, count + 1) * newWidth)
        for row in 0..<count { Self.put(self[row], width: newWidth, into: &wider) }
        bytes = wider
        width = newWidth
    }
}

extension PackedIntegers: Equatable {
    static func == (a: PackedIntegers, b: PackedIntegers) -> Bool {
        guard a.count == b.count else { return false }
        for row in 0..<a.count where a[row] != b[row] { return false }
        return true
    }
}
