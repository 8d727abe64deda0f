import TollgateModel

/// `tollgate export`'s CSV and NDJSON, written as bytes into one reusable buffer: each log's exported fields
/// (`LogField.exported`), with no Foundation formatting. Texts that are pure ASCII without anything to quote or
/// escape are copied as they are; any other text goes through the same `String` code as a whole value (`csvField`,
/// `JSONText.quoted`), so the output never depends on which path a value took.
public struct ExportEncoder: ~Copyable {
    public enum Format: Sendable { case csv, ndjson }

    public let format: Format
    /// What goes before each column's value, by its place in `LogField.exported`: "," in CSV, none before the
    /// first; `,"name":` in NDJSON, `{"name":` for the first.
    private var pool = BytePool()
    /// The date part (`YYYY-MM-DD`) of the last row's created_at, and its day number.
    private var day: Int64 = .min
    private var dayText: (UInt64, UInt16) = (0, 0)

    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// Bytes written and not yet taken (`withBytes`, `removeAll`).
    public private(set) var count = 0

    public init(format: Format, capacity: Int = 1 << 21) {
        self.format = format
        self.capacity = max(capacity, 4096)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
        for (index, field) in LogField.exported.enumerated() {
            switch format {
            case .csv: _ = pool.add(index == 0 ? [] : [UInt8(ascii: ",")])
            case .ndjson: _ = pool.add(Array(((index == 0 ? "{" : ",") + "\"\(field.name)\":").utf8))
            }
        }
    }

    deinit {
        base.deallocate()
        pool.deallocate()
    }

    /// The bytes written so far.
    public func withBytes<T>(_ body: (UnsafeRawBufferPointer) throws -> T) rethrows -> T {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public mutating func removeAll() { count = 0 }

    /// The CSV header line (nothing for NDJSON).
    public mutating func appendHeader() {
        guard format == .csv else { return }
        append(Array((LogField.exported.map(\.name).joined(separator: ",") + "\r\n").utf8))
    }

    /// One log's line: its exported fields (`LogField.exported`), each after what goes before it.
    public mutating func append(_ entry: LogIndexEntry) {
        reserve(1024)
        let fields = LogField.exported
        for index in fields.indices {
            emit(index)
            fields[index].write(entry, to: &self)
        }
        switch format {
        case .csv:
            byte(UInt8(ascii: "\r"))
            byte(UInt8(ascii: "\n"))
        case .ndjson:
            byte(UInt8(ascii: "}"))
            byte(UInt8(ascii: "\n"))
        }
    }

    /// RFC 4180 (`CSV.field`): quoted when it holds a comma, quote or line break (a CR LF pair too); quotes doubled.
    public static func csvField(_ text: String) -> String { CSV.field(text) }

    // MARK: Bytes

    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(capacity * 2, count + extra)
        let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        moved.update(from: base, count: count)
        base.deallocate()
        base = moved
        capacity = grown
    }

    /// One byte; `reserve` first.
    @inline(__always)
    private mutating func byte(_ value: UInt8) {
        base[count] = value
        count += 1
    }

    private mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        reserve(bytes.count)
        if let start = bytes.baseAddress { (base + count).update(from: start, count: bytes.count) }
        count += bytes.count
    }

    private mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// The bytes of a pool slot.
    @inline(__always)
    private mutating func emit(_ slot: Int) {
        let (start, length) = pool[slot]
        reserve(length)
        if length <= 16 {
            for i in 0..<length { base[count + i] = start[i] }
        } else {
            (base + count).update(from: start, count: length)
        }
        count += length
    }

    /// A quote around the id and created_at in NDJSON (never needed in CSV: neither holds anything to quote).
    @inline(__always)
    private mutating func putQuote() {
        guard format == .ndjson else { return }
        reserve(1)
        byte(UInt8(ascii: "\""))
    }

    /// An ASCII literal as it is.
    @inline(__always)
    private mutating func putLiteral(_ literal: StaticString) {
        append(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
    }

    /// NDJSON's `null`; nothing in CSV (an empty field).
    private mutating func putNull() {
        guard format == .ndjson else { return }
        putLiteral("null")
    }

    private mutating func putBool(_ value: Bool) { putLiteral(value ? "true" : "false") }

    /// `String(value)`.
    private mutating func putInt(_ value: Int64) {
        reserve(20)
        if value < 0 { byte(UInt8(ascii: "-")) }
        putDigits(value.magnitude, minimum: 1)
    }

    /// The decimal digits of `value`, zero-padded to `minimum`.
    @inline(__always)
    private mutating func putDigits(_ value: UInt64, minimum: Int) {
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch, filled from the end
        let written = withUnsafeMutableBytes(of: &digits) { scratch -> Int in
            var rest = value
            var at = scratch.count
            repeat {
                at -= 1
                scratch[at] = UInt8(ascii: "0") + UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest != 0 || scratch.count - at < minimum
            let n = scratch.count - at
            reserve(n)
            (base + count).update(
                from: scratch.baseAddress!.advanced(by: at).assumingMemoryBound(to: UInt8.self), count: n)
            return n
        }
        count += written
    }

    /// `ExactDecimal.text(Int128(value), scale: scale)`: the fraction without trailing zeros, no point when
    /// whole.
    @inline(__always)
    private mutating func putDecimal(_ value: Int64, scale: Int) {
        reserve(24)
        var unit: UInt64 = 1
        for _ in 0..<scale { unit *= 10 }
        let magnitude = value.magnitude
        if value < 0 { byte(UInt8(ascii: "-")) }
        putDigits(magnitude / unit, minimum: 1)
        var fraction = magnitude % unit
        guard fraction != 0 else { return }
        var width = scale
        while fraction % 10 == 0 {
            fraction /= 10
            width -= 1
        }
        byte(UInt8(ascii: "."))
        putDigits(fraction, minimum: width)
    }

    /// Lowercase and hyphenated, as `LogID.description`.
    private mutating func putID(_ id: LogID) {
        reserve(36)
        for i in 0..<16 {
            if i == 4 || i == 6 || i == 8 || i == 10 { byte(UInt8(ascii: "-")) }
            let word = i < 8 ? id.high : id.low
            let value = UInt8(truncatingIfNeeded: word >> (56 - 8 * UInt64(i & 7)))
            byte(Self.hexDigit(value >> 4))
            byte(Self.hexDigit(value & 0xF))
        }
    }

    @inline(__always)
    private static func hexDigit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") + nibble - 10
    }

    /// `RFC3339.format(milliseconds:)`: `2026-11-25T13:04:05.123Z`.
    private mutating func putTimestamp(_ milliseconds: Int64) {
        var days = milliseconds / 86_400_000
        var ofDay = milliseconds % 86_400_000
        if ofDay < 0 {
            days -= 1
            ofDay += 86_400_000
        }
        if days != day {
            let (year, month, date) = RFC3339.civil(fromDays: days)
            guard (0...9999).contains(year) else {
                append(Array(RFC3339.format(milliseconds: milliseconds).utf8))
                return
            }
            day = days
            withUnsafeMutableBytes(of: &dayText) { out in
                var at = 0
                func two(_ v: Int64) {
                    out[at] = UInt8(ascii: "0") + UInt8(v / 10)
                    out[at + 1] = UInt8(ascii: "0") + UInt8(v % 10)
                    at += 2
                }
                two(year / 100)
                two(year % 100)
                out[at] = UInt8(ascii: "-")
                at += 1
                two(month)
                out[at] = UInt8(ascii: "-")
                at += 1
                two(date)
            }
        }
        reserve(24)
        var date = dayText
        withUnsafeBytes(of: &date) { text in
            (base + count).update(from: text.baseAddress!.assumingMemoryBound(to: UInt8.self), count: 10)
        }
        count += 10
        byte(UInt8(ascii: "T"))
        let fields = (ofDay / 3_600_000, ofDay / 60_000 % 60, ofDay / 1000 % 60)
        putTwo(fields.0)
        byte(UInt8(ascii: ":"))
        putTwo(fields.1)
        byte(UInt8(ascii: ":"))
        putTwo(fields.2)
        byte(UInt8(ascii: "."))
        let ms = ofDay % 1000
        byte(UInt8(ascii: "0") + UInt8(ms / 100))
        putTwo(ms % 100)
        byte(UInt8(ascii: "Z"))
    }

    @inline(__always)
    private mutating func putTwo(_ value: Int64) {
        byte(UInt8(ascii: "0") + UInt8(value / 10))
        byte(UInt8(ascii: "0") + UInt8(value % 10))
    }

    /// A text value: copied when it is ASCII with nothing to quote (CSV) or escape (JSON), else encoded as a
    /// `String`.
    private mutating func putText(_ text: UnsafeBufferPointer<UInt8>) {
        var plain = true
        switch format {
        case .csv:
            for c in text
            where c >= 0x80 || c == UInt8(ascii: ",") || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\n")
                || c == UInt8(ascii: "\r")
            {
                plain = false
                break
            }
            if plain { append(text) }
        case .ndjson:
            for c in text where c >= 0x80 || c < 0x20 || c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") {
                plain = false
                break
            }
            if plain {
                reserve(text.count + 2)
                byte(UInt8(ascii: "\""))
                append(text)
                byte(UInt8(ascii: "\""))
            }
        }
        if !plain { append(encoded(String(decoding: text, as: UTF8.self))) }
    }

    private func encoded(_ text: String) -> [UInt8] {
        switch format {
        case .csv: Array(Self.csvField(text).utf8)
        case .ndjson: Array(JSONText.quoted(text).utf8)
        }
    }
}

extension ExportEncoder: LogFieldWriter {
    public mutating func logID(_ id: LogID) {
        putQuote()
        putID(id)
        putQuote()
    }

    public mutating func timestamp(milliseconds: Int64) {
        putQuote()
        putTimestamp(milliseconds)
        putQuote()
    }

    public mutating func text(_ value: String?) {
        guard var value else { return putNull() }
        value.withUTF8 { putText($0) }
    }

    public mutating func integer(_ value: Int64?) {
        if let value { putInt(value) } else { putNull() }
    }

    public mutating func flag(_ value: Bool) { putBool(value) }

    public mutating func duration(micros: Int64?) {
        if let micros { putDecimal(micros, scale: 3) } else { putNull() }
    }

    public mutating func money(picodollars: Int64?) {
        if let picodollars { putDecimal(picodollars, scale: 12) } else { putNull() }
    }

    /// Never called: the export has no metadata column (`LogField.isExported`).
    public mutating func metadata(_ entries: [MetadataEntry]) {
        preconditionFailure("the export writes no metadata")
    }
}

/// Byte strings end to end in one allocation, each found by its slot number. Freed by its owner
/// (`deallocate`).
private struct BytePool {
    private var bytes = UnsafeMutablePointer<UInt8>.allocate(capacity: 4096)
    private var byteCapacity = 4096
    private var byteCount = 0
    /// Two per slot: start offset, length.
    private var spans = UnsafeMutablePointer<Int>.allocate(capacity: 256)
    private var spanCapacity = 256
    private var slots = 0

    /// Adds `value`; its slot.
    mutating func add(_ value: [UInt8]) -> Int {
        if byteCount + value.count > byteCapacity {
            let grown = max(byteCapacity * 2, byteCount + value.count)
            let moved = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
            moved.update(from: bytes, count: byteCount)
            bytes.deallocate()
            bytes = moved
            byteCapacity = grown
        }
        if 2 * slots + 2 > spanCapacity {
            let moved = UnsafeMutablePointer<Int>.allocate(capacity: spanCapacity * 2)
            moved.update(from: spans, count: 2 * slots)
            spans.deallocate()
            spans = moved
            spanCapacity *= 2
        }
        value.withUnsafeBufferPointer {
            if let start = $0.baseAddress { (bytes + byteCount).update(from: start, count: $0.count) }
        }
        spans[2 * slots] = byteCount
        spans[2 * slots + 1] = value.count
        byteCount += value.count
        slots += 1
        return slots - 1
    }

    /// Where a slot's bytes start, and how many.
    @inline(__always)
    subscript(slot: Int) -> (UnsafePointer<UInt8>, Int) {
        (UnsafePointer(bytes + spans[2 * slot]), spans[2 * slot + 1])
    }

    func deallocate() {
        bytes.deallocate()
        spans.deallocate()
    }
}
