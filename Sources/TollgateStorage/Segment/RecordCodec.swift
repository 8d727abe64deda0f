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
        let bound = sizeBound(record)
        return [UInt8](unsafeUninitializedCapacity: bound) { buffer, count in
            var w = BoundedWriter(buffer)
            encode(record, into: &w)
            count = w.count
        }
    }

    /// A size no encoding of `r` passes: every key and varint counted at its longest, every text and body at its
    /// length.
    static func sizeBound(_ r: LogRecord) -> Int {
        // The version, the id, 32 keyed integers, flags and body lengths at most, and the keys and lengths of 12
        // texts.
        var bound = 1 + 19 + 32 * (2 + 10) + 12 * (2 + 10)
        bound += r.account.utf8.count + r.gateway.utf8.count + r.provider.utf8.count + (r.model?.utf8.count ?? 0)
        bound += r.path.utf8.count + r.method.utf8.count + (r.usage.serviceTier?.utf8.count ?? 0)
        bound += (r.error?.utf8.count ?? 0) + (r.eventID?.utf8.count ?? 0) + (r.refusal?.rawValue.utf8.count ?? 0)
        for entry in r.metadata {
            bound += 2 + 10 + 2 + 10 + entry.key.utf8.count + 2 + 10
            if case .string(let s) = entry.value { bound += s.utf8.count }
        }
        // A header: its key, then its message as the list packs it.
        bound += 2 * (r.requestHeaders.count + r.responseHeaders.count)
        bound += r.requestHeaders.bytes.count + r.responseHeaders.bytes.count
        bound += r.requestBody.count + r.responseBody.count
        if r.customCost != nil { bound += 2 + 10 + 2 * (1 + 10) }
        return bound
    }

    static func encode(_ r: LogRecord, into w: inout BoundedWriter) {
        w.u8(version)
        w.key(.id, Wire.bytes)
        w.varint(16)
        w.bigEndian(r.id.high)
        w.bigEndian(r.id.low)
        w.int(.createdAt, r.createdAt)
        w.string(.account, r.account)
        w.string(.gateway, r.gateway)
        w.string(.provider, r.provider)
        if let model = r.model { w.string(.model, model) }
        w.string(.path, r.path)
        w.string(.method, r.method)
        w.int(.statusCode, Int64(r.statusCode))
        w.bool(.success, r.success)
        w.bool(.stream, r.stream)
        w.int(.durationMicros, r.durationMicros)
        w.int(.ttftMicros, r.ttftMicros)
        w.int(.tokensIn, r.usage.tokensIn)
        w.int(.cachedTokensIn, r.usage.cachedTokensIn)
        w.int(.cacheWriteTokens, r.usage.cacheWriteTokens)
        w.int(.cacheWrite1hTokens, r.usage.cacheWrite1hTokens)
        w.int(.tokensOut, r.usage.tokensOut)
        w.int(.reasoningTokens, r.usage.reasoningTokens)
        if let tier = r.usage.serviceTier { w.string(.serviceTier, tier) }
        w.int(.requestSize, r.requestSize)
        w.int(.responseSize, r.responseSize)
        if let error = r.error { w.string(.error, error) }
        for entry in r.metadata {
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
        // Each header is its key and its message, which the list holds packed as the format has it (`HeaderList`).
        r.requestHeaders.forEachMessage { w.header(.requestHeader, message: $0) }
        r.responseHeaders.forEachMessage { w.header(.responseHeader, message: $0) }
        if !r.requestBody.isEmpty {
            w.key(.requestBody, Wire.bytes)
            w.lengthPrefixed(r.requestBody)
        }
        if !r.responseBody.isEmpty {
            w.key(.responseBody, Wire.bytes)
            w.lengthPrefixed(r.responseBody)
        }
        if !r.payloadStored { w.bool(.payloadStored, false) }
        if let custom = r.customCost {
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
        if !r.logged { w.bool(.logged, false) }
        if let eventID = r.eventID { w.string(.eventID, eventID) }
        if r.attempt != 1 { w.int(.attempt, Int64(r.attempt)) }
        if let step = r.step { w.int(.step, Int64(step)) }
        if r.cached { w.bool(.cached, true) }
        if let refusal = r.refusal { w.string(.refusal, refusal.rawValue) }
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
