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

    enum Field {
        static let id: UInt64 = 1
        static let createdAt: UInt64 = 2
        static let account: UInt64 = 3
        static let gateway: UInt64 = 4
        static let provider: UInt64 = 5
        static let model: UInt64 = 6
        static let path: UInt64 = 7
        static let method: UInt64 = 8
        static let statusCode: UInt64 = 9
        static let success: UInt64 = 10
        static let stream: UInt64 = 11
        static let durationMicros: UInt64 = 12
        static let ttftMicros: UInt64 = 13
        static let tokensIn: UInt64 = 14
        static let cachedTokensIn: UInt64 = 15
        static let cacheWriteTokens: UInt64 = 16
        static let cacheWrite1hTokens: UInt64 = 17
        static let tokensOut: UInt64 = 18
        static let reasoningTokens: UInt64 = 19
        static let serviceTier: UInt64 = 20
        static let requestSize: UInt64 = 21
        static let responseSize: UInt64 = 22
        static let error: UInt64 = 23
        static let metadata: UInt64 = 24
        static let requestHeader: UInt64 = 25
        static let responseHeader: UInt64 = 26
        static let requestBody: UInt64 = 27
        static let responseBody: UInt64 = 28
        static let payloadStored: UInt64 = 29
        static let customCost: UInt64 = 30
        static let logged: UInt64 = 31
        static let eventID: UInt64 = 32
        static let attempt: UInt64 = 33
        static let step: UInt64 = 34
        static let cached: UInt64 = 35
        static let refusal: UInt64 = 36
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

    enum HeaderField {
        static let name: UInt64 = 1
        static let value: UInt64 = 2
    }

    /// Encodes a record.
    public static func encode(_ record: LogRecord) -> [UInt8] {
        let capacity = 256 + record.requestBody.count + record.responseBody.count
        var w = WireWriter(capacity: capacity)
        encode(record, into: &w)
        return w.bytes
    }

    static func encode(_ r: LogRecord, into w: inout WireWriter) {
        w.u8(version)
        w.varint(Field.id << 3 | Wire.bytes)
        w.varint(16)
        w.id(LogIDBytes(high: r.id.high, low: r.id.low))
        w.int(Field.createdAt, r.createdAt)
        w.string(Field.account, r.account)
        w.string(Field.gateway, r.gateway)
        w.string(Field.provider, r.provider)
        if let model = r.model { w.string(Field.model, model) }
        w.string(Field.path, r.path)
        w.string(Field.method, r.method)
        w.int(Field.statusCode, Int64(r.statusCode))
        w.bool(Field.success, r.success)
        w.bool(Field.stream, r.stream)
        w.int(Field.durationMicros, r.durationMicros)
        w.int(Field.ttftMicros, r.ttftMicros)
        w.int(Field.tokensIn, r.usage.tokensIn)
        w.int(Field.cachedTokensIn, r.usage.cachedTokensIn)
        w.int(Field.cacheWriteTokens, r.usage.cacheWriteTokens)
        w.int(Field.cacheWrite1hTokens, r.usage.cacheWrite1hTokens)
        w.int(Field.tokensOut, r.usage.tokensOut)
        w.int(Field.reasoningTokens, r.usage.reasoningTokens)
        if let tier = r.usage.serviceTier { w.string(Field.serviceTier, tier) }
        w.int(Field.requestSize, r.requestSize)
        w.int(Field.responseSize, r.responseSize)
        if let error = r.error { w.string(Field.error, error) }
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
            w.varint(Field.metadata << 3 | Wire.bytes)
            w.lengthPrefixed(nested.bytes)
        }
        for header in r.requestHeaders { w.header(Field.requestHeader, header) }
        for header in r.responseHeaders { w.header(Field.responseHeader, header) }
        if !r.requestBody.isEmpty {
            w.varint(Field.requestBody << 3 | Wire.bytes)
            w.lengthPrefixed(r.requestBody)
        }
        if !r.responseBody.isEmpty {
            w.varint(Field.responseBody << 3 | Wire.bytes)
            w.lengthPrefixed(r.responseBody)
        }
        if !r.payloadStored { w.bool(Field.payloadStored, false) }
        if let custom = r.customCost {
            var nested = WireWriter(capacity: 24)
            switch custom {
            case .total(let total): nested.int(CustomCostField.total, total)
            case .perToken(let input, let output):
                nested.int(CustomCostField.perTokenIn, input)
                nested.int(CustomCostField.perTokenOut, output)
            }
            w.varint(Field.customCost << 3 | Wire.bytes)
            w.lengthPrefixed(nested.bytes)
        }
        if !r.logged { w.bool(Field.logged, false) }
        if let eventID = r.eventID { w.string(Field.eventID, eventID) }
        if r.attempt != 1 { w.int(Field.attempt, Int64(r.attempt)) }
        if let step = r.step { w.int(Field.step, Int64(step)) }
        if r.cached { w.bool(Field.cached, true) }
        if let refusal = r.refusal { w.string(Field.refusal, refusal.rawValue) }
    }
}

extension WireWriter {
    fileprivate mutating func int(_ field: UInt64, _ value: Int64) {
        varint(field << 3 | RecordCodec.Wire.varint)
        zigzag(value)
    }

    fileprivate mutating func int(_ field: UInt64, _ value: Int64?) {
        if let value { int(field, value) }
    }

    fileprivate mutating func bool(_ field: UInt64, _ value: Bool) {
        varint(field << 3 | RecordCodec.Wire.varint)
        u8(value ? 1 : 0)
    }

    fileprivate mutating func string(_ field: UInt64, _ value: String) {
        varint(field << 3 | RecordCodec.Wire.bytes)
        lengthPrefixed(value)
    }

    /// A nested header message, written in place: its length is computed first, so no scratch buffer is needed.
    fileprivate mutating func header(_ field: UInt64, _ header: Header) {
        let name = header.name.utf8.count
        let value = header.value.utf8.count
        let nestedLength = 2 + Self.varintSize(UInt64(name)) + name + Self.varintSize(UInt64(value)) + value
        varint(field << 3 | RecordCodec.Wire.bytes)
        varint(UInt64(nestedLength))
        string(RecordCodec.HeaderField.name, header.name)
        string(RecordCodec.HeaderField.value, header.value)
    }

    static func varintSize(_ value: UInt64) -> Int {
        var n = 1
        var v = value >> 7
        while v != 0 {
            n += 1
            v >>= 7
        }
        return n
    }
}
