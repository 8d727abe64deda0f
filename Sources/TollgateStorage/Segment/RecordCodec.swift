import TollgateModel

/// `LogRecord` ↔ bytes: a version byte, then tagged fields (protobuf-like: `field_number << 3 | wire_type` varint
/// keys, varints, zigzag for signed numbers, length-prefixed strings and bytes). Unknown fields are skipped, so
/// fields can be added without breaking records already on disk. The layout is in FORMAT.md.
public enum RecordCodec {
    /// The encoding version written first; a decoder rejects versions it does not know.
    public static let version: UInt8 = 1

    enum Wire {
        static let varint: UInt64 = 0
        static let fixed64: UInt64 = 1
        static let bytes: UInt64 = 2
    }

    /// The nested `customCost` message: either `total`, or `perTokenIn` and `perTokenOut` (picodollars).
    enum CustomCostField {
        static let total: UInt64 = 1
        static let perTokenIn: UInt64 = 2
        static let perTokenOut: UInt64 = 3
    }

    enum MetadataField {
        static let key: UInt64 = 1
        static let string: UInt64 = 2
        static let number: UInt64 = 3
        static let bool: UInt64 = 4
    }

    /// As `HeaderList` packs a header message, which the encoder writes as it lies.
    enum HeaderField {
        static let name = HeaderList.nameField
        static let value = HeaderList.valueField
    }

    /// Encodes a record.
    ///
    /// The bytes are written in place into an array of the encoding's size bound (`sizeBound`): no growth and no
    /// check for a unique buffer per field, which appending to an array cost (half the encoding's instructions).
    public static func encode(_ record: LogRecord) -> [UInt8] {
        withUnsafePointer(to: record) { encode($0) }
    }

    /// Encodes `part` of a record (FORMAT.md, *Format version 4*).
    public static func encode(_ record: LogRecord, part: Part) -> [UInt8] {
        withUnsafePointer(to: record) { encode($0, part: part) }
    }

    /// Encodes the record `record` points to (read where it lies, as `encode(_:into:)` says).
    static func encode(_ record: UnsafePointer<LogRecord>, part: Part = .whole) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: sizeBound(record)) { buffer, count in
            var w = BoundedWriter(buffer)
            encode(record, into: &w, part: part)
            count = w.count
        }
    }

    /// A size no encoding of `r` passes: every key and varint counted at its longest, every text and body at its
    /// length.
    ///
    /// The record is read where it lies, as in `encode(_:into:)`.
    static func sizeBound(_ r: UnsafePointer<LogRecord>) -> Int {
        // The version, the id, 32 keyed integers, flags and body lengths at most, and the keys and lengths of 12
        // texts.
        var bound = 1 + 19 + 32 * (2 + 10) + 12 * (2 + 10)
        bound +=
            r.pointee.account.utf8.count + r.pointee.gateway.utf8.count + r.pointee.provider.utf8.count
            + (r.pointee.model?.utf8.count ?? 0)
        bound +=
            r.pointee.path.utf8.count + r.pointee.method.utf8.count + (r.pointee.usage.serviceTier?.utf8.count ?? 0)
        bound +=
            (r.pointee.error?.utf8.count ?? 0) + (r.pointee.eventID?.utf8.count ?? 0)
            + (r.pointee.refusal?.rawValue.utf8.count ?? 0)
        for entry in r.pointee.metadata {
            bound += 2 + 10 + 2 + 10 + entry.key.utf8.count + 2 + 10
            if case .string(let s) = entry.value { bound += s.utf8.count }
        }
        // A header: its key, then its message as the list packs it.
        bound += 2 * (r.pointee.requestHeaders.count + r.pointee.responseHeaders.count)
        bound += r.pointee.requestHeaders.bytes.count + r.pointee.responseHeaders.bytes.count
        bound += r.pointee.requestBody.count + r.pointee.responseBody.count
        if r.pointee.customCost != nil { bound += 2 + 10 + 2 * (1 + 10) }
        return bound
    }

    /// Encodes the record `r` points to. The writer's records are read where they lie in their batch: a record
    /// passed by value is copied first (each of its strings and buffers retained, then released) by a caller that
    /// reads it from an array.
    static func encode(_ r: UnsafePointer<LogRecord>, into w: inout BoundedWriter, part: Part = .whole) {
        let metadataPart = part != .payload
        let payloadPart = part != .metadata
        if metadataPart { encodeLeadingMetadata(r, into: &w) }
        if payloadPart {
            encodeEntries(r, into: &w)
            // Each header is its key and its message, which the list holds packed as the format has it
            // (`HeaderList`).
            r.pointee.requestHeaders.forEachMessage { w.header(.requestHeader, message: $0) }
            r.pointee.responseHeaders.forEachMessage { w.header(.responseHeader, message: $0) }
            if !r.pointee.requestBody.isEmpty {
                w.key(.requestBody, Wire.bytes)
                w.lengthPrefixed(r.pointee.requestBody)
            }
            if !r.pointee.responseBody.isEmpty {
                w.key(.responseBody, Wire.bytes)
                w.lengthPrefixed(r.pointee.responseBody)
            }
        }
        if metadataPart && !r.pointee.payloadStored { w.bool(.payloadStored, false) }
        if payloadPart { encodeCustomCost(r, into: &w) }
        if metadataPart { encodeTrailingMetadata(r, into: &w) }
        // A status the column cannot hold travels with the payload, which the reader decodes last.
        if part == .payload && UInt16(exactly: r.pointee.statusCode) == nil {
            w.int(.statusCode, Int64(r.pointee.statusCode))
        }
    }

    /// Which of a record's fields an encoding holds: all (versions 1–3), or one of the two parts a version 4
    /// segment keeps apart (FORMAT.md, *Format version 4*): the fields with a column, and the rest.
    public enum Part: Sendable {
        case whole
        /// The version byte and every field a segment's columns hold, but the metadata entries and the custom cost,
        /// which their columns hold only in part (as JSON text, and as a flag).
        case metadata
        /// Headers, bodies, metadata entries, a custom cost, and a status the column cannot hold; no version byte.
        case payload
    }

    private static func encodeLeadingMetadata(_ r: UnsafePointer<LogRecord>, into w: inout BoundedWriter) {
        w.u8(version)
        w.key(.id, Wire.bytes)
        w.varint(16)
        w.bigEndian(r.pointee.id.high)
        w.bigEndian(r.pointee.id.low)
        w.int(.createdAt, r.pointee.createdAt)
        w.string(.account, r.pointee.account)
        w.string(.gateway, r.pointee.gateway)
        w.string(.provider, r.pointee.provider)
        if let model = r.pointee.model { w.string(.model, model) }
        w.string(.path, r.pointee.path)
        w.string(.method, r.pointee.method)
        w.int(.statusCode, Int64(r.pointee.statusCode))
        w.bool(.success, r.pointee.success)
        w.bool(.stream, r.pointee.stream)
        w.int(.durationMicros, r.pointee.durationMicros)
        w.int(.ttftMicros, r.pointee.ttftMicros)
        w.int(.tokensIn, r.pointee.usage.tokensIn)
        w.int(.cachedTokensIn, r.pointee.usage.cachedTokensIn)
        w.int(.cacheWriteTokens, r.pointee.usage.cacheWriteTokens)
        w.int(.cacheWrite1hTokens, r.pointee.usage.cacheWrite1hTokens)
        w.int(.tokensOut, r.pointee.usage.tokensOut)
        w.int(.reasoningTokens, r.pointee.usage.reasoningTokens)
        if let tier = r.pointee.usage.serviceTier { w.string(.serviceTier, tier) }
        w.int(.requestSize, r.pointee.requestSize)
        w.int(.responseSize, r.pointee.responseSize)
        if let error = r.pointee.error { w.string(.error, error) }
    }

    private static func encodeEntries(_ r: UnsafePointer<LogRecord>, into w: inout BoundedWriter) {
        for entry in r.pointee.metadata {
            var nested = WireWriter(capacity: 32)
            nested.string(MetadataField.key, entry.key)
            switch entry.value {
            case .string(let s): nested.string(MetadataField.string, s)
            case .number(let d):
                nested.varint(MetadataField.number << 3 | Wire.fixed64)
                nested.u64(d.bitPattern)
            case .bool(let b): nested.bool(MetadataField.bool, b)
            }
            w.key(.metadata, Wire.bytes)
            w.lengthPrefixed(nested.bytes)
        }
    }

    private static func encodeCustomCost(_ r: UnsafePointer<LogRecord>, into w: inout BoundedWriter) {
        if let custom = r.pointee.customCost {
            var nested = WireWriter(capacity: 24)
            switch custom {
            case .total(let total): nested.int(CustomCostField.total, total)
            case .perToken(let input, let output):
                nested.int(CustomCostField.perTokenIn, input)
                nested.int(CustomCostField.perTokenOut, output)
            }
            w.key(.customCost, Wire.bytes)
            w.lengthPrefixed(nested.bytes)
        }
    }

    private static func encodeTrailingMetadata(_ r: UnsafePointer<LogRecord>, into w: inout BoundedWriter) {
        if !r.pointee.logged { w.bool(.logged, false) }
        if let eventID = r.pointee.eventID { w.string(.eventID, eventID) }
        if r.pointee.attempt != 1 { w.int(.attempt, Int64(r.pointee.attempt)) }
        if let step = r.pointee.step { w.int(.step, Int64(step)) }
        if r.pointee.cached { w.bool(.cached, true) }
        if let refusal = r.pointee.refusal { w.string(.refusal, refusal.rawValue) }
    }
}

/// Writes bytes in place into memory of a size fixed beforehand. Every write checks that it fits first: a wrong
/// bound traps, it never writes past the end.
struct BoundedWriter {
    private let base: UnsafeMutablePointer<UInt8>
    private let capacity: Int
    private(set) var count = 0

    init(_ buffer: UnsafeMutableBufferPointer<UInt8>) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inline(__always)
    mutating func u8(_ value: UInt8) {
        precondition(count < capacity, "record encoding passed its size bound")
        base[count] = value
        count += 1
    }

    @inline(__always)
    mutating func varint(_ value: UInt64) {
        precondition(capacity - count >= Varint.maxBytes, "record encoding passed its size bound")
        count += Varint.write(value, to: base + count)
    }

    mutating func bigEndian(_ value: UInt64) {
        precondition(capacity - count >= 8, "record encoding passed its size bound")
        UnsafeMutableRawPointer(base + count).storeBytes(of: value.bigEndian, as: UInt64.self)
        count += 8
    }

    /// `bytes` as they are.
    @inline(__always)
    mutating func raw(_ bytes: UnsafeRawBufferPointer) {
        precondition(capacity - count >= bytes.count, "record encoding passed its size bound")
        if let source = bytes.baseAddress, bytes.count > 0 {
            UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        }
        count += bytes.count
    }

    /// Length varint then the bytes.
    mutating func lengthPrefixed(_ bytes: [UInt8]) {
        varint(UInt64(bytes.count))
        bytes.withUnsafeBytes { raw($0) }
    }

    /// Length varint then the string's UTF-8.
    @inline(__always)
    mutating func lengthPrefixed(_ string: String) {
        let written: Void? = string.utf8.withContiguousStorageIfAvailable { utf8 in
            varint(UInt64(utf8.count))
            raw(UnsafeRawBufferPointer(utf8))
        }
        if written == nil { lengthPrefixed(Array(string.utf8)) }
    }

    /// A field's key: its number and wire type.
    @inline(__always)
    fileprivate mutating func key(_ field: RecordField, _ wire: UInt64) {
        varint(field.rawValue << 3 | wire)
    }

    @inline(__always)
    fileprivate mutating func int(_ field: RecordField, _ value: Int64) {
        key(field, RecordCodec.Wire.varint)
        varint(Varint.zigzag(value))
    }

    @inline(__always)
    fileprivate mutating func int(_ field: RecordField, _ value: Int64?) {
        if let value { int(field, value) }
    }

    @inline(__always)
    fileprivate mutating func bool(_ field: RecordField, _ value: Bool) {
        key(field, RecordCodec.Wire.varint)
        u8(value ? 1 : 0)
    }

    @inline(__always)
    fileprivate mutating func string(_ field: RecordField, _ value: String) {
        key(field, RecordCodec.Wire.bytes)
        lengthPrefixed(value)
    }

    /// A header: its key, then its message (length-prefixed, as `HeaderList` packs it).
    fileprivate mutating func header(_ field: RecordField, message: UnsafeRawBufferPointer) {
        key(field, RecordCodec.Wire.bytes)
        raw(message)
    }
}

/// The nested messages' fields (metadata entries, custom costs), made apart and then written length-prefixed.
extension WireWriter {
    fileprivate mutating func int(_ field: UInt64, _ value: Int64) {
        varint(field << 3 | RecordCodec.Wire.varint)
        zigzag(value)
    }

    fileprivate mutating func bool(_ field: UInt64, _ value: Bool) {
        varint(field << 3 | RecordCodec.Wire.varint)
        u8(value ? 1 : 0)
    }

    fileprivate mutating func string(_ field: UInt64, _ value: String) {
        varint(field << 3 | RecordCodec.Wire.bytes)
        lengthPrefixed(value)
    }
}
