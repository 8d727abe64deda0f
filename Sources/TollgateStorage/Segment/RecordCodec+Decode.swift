import TollgateModel

extension RecordCodec {
    /// Decodes a record. Throws `SegmentError.corrupt` for malformed bytes or a missing id, and
    /// `.unsupportedVersion` for a version byte this code does not know.
    public static func decode(_ bytes: [UInt8]) throws -> LogRecord {
        try bytes.withUnsafeBytes { try decode($0) }
    }

    public static func decode(_ buffer: UnsafeRawBufferPointer) throws -> LogRecord {
        try decode(buffer, payload: nil)
    }

    /// Decodes a record kept in two parts (FORMAT.md, *Format version 4*): `metadata` is its metadata part (version
    /// byte first), `payload` its payload part; the two together are its encoding. Without `payload`, `metadata` is
    /// a whole encoding.
    static func decode(_ metadata: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer?) throws -> LogRecord {
        var r = WireReader(metadata)
        let v = try r.u8()
        guard v == version else {
            throw SegmentError(.unsupportedVersion, "record encoding version \(v), this build reads \(version)")
        }
        var record = LogRecord(
            id: LogID(high: 0, low: 0), createdAt: 0, account: "", gateway: "", provider: "", model: nil, path: "",
            method: "", statusCode: 0, success: false, stream: false, durationMicros: 0, ttftMicros: nil,
            requestSize: 0, responseSize: 0)
        var sawID = try decodeFields(&r, into: &record)
        if let payload {
            var p = WireReader(payload)
            sawID = try decodeFields(&p, into: &record) || sawID
        }
        guard sawID else { throw SegmentError(.corrupt, "record has no id") }
        return record
    }

    /// Completes `record`, whose metadata came from elsewhere (a sealed segment's columns), with the fields of its
    /// payload part.
    static func decode(payload: UnsafeRawBufferPointer, into record: inout LogRecord) throws {
        var r = WireReader(payload)
        _ = try decodeFields(&r, into: &record)
    }

    /// Reads tagged fields to the end of `r` into `record`; returns whether one was the id.
    private static func decodeFields(_ r: inout WireReader, into record: inout LogRecord) throws -> Bool {
        var sawID = false
        while !r.isAtEnd {
            let key = try r.varint()
            let wire = key & 7
            guard let field = RecordField(rawValue: key >> 3) else {
                try skip(wire: wire, &r)  // a field of a later version
                continue
            }
            switch (field, wire) {
            case (.id, Wire.bytes):
                let n = try r.length()
                guard n == 16 else { throw SegmentError(.corrupt, "record id has \(n) bytes") }
                let high = try r.bigEndianU64()
                let low = try r.bigEndianU64()
                record.id = LogID(high: high, low: low)
                sawID = true
            case (.createdAt, Wire.varint): record.createdAt = try r.zigzag()
            case (.account, Wire.bytes): record.account = try r.string(r.length())
            case (.gateway, Wire.bytes): record.gateway = try r.string(r.length())
            case (.provider, Wire.bytes): record.provider = try r.string(r.length())
            case (.model, Wire.bytes): record.model = try r.string(r.length())
            case (.path, Wire.bytes): record.path = try r.string(r.length())
            case (.method, Wire.bytes): record.method = try r.string(r.length())
            case (.statusCode, Wire.varint):
                let code = try r.zigzag()
                guard let status = Int(exactly: code) else { throw SegmentError(.corrupt, "status out of range") }
                record.statusCode = status
            case (.success, Wire.varint): record.success = try r.varint() != 0
            case (.stream, Wire.varint): record.stream = try r.varint() != 0
            case (.durationMicros, Wire.varint): record.durationMicros = try r.zigzag()
            case (.ttftMicros, Wire.varint): record.ttftMicros = try r.zigzag()
            case (.tokensIn, Wire.varint): record.usage.tokensIn = try r.zigzag()
            case (.cachedTokensIn, Wire.varint): record.usage.cachedTokensIn = try r.zigzag()
            case (.cacheWriteTokens, Wire.varint): record.usage.cacheWriteTokens = try r.zigzag()
            case (.cacheWrite1hTokens, Wire.varint): record.usage.cacheWrite1hTokens = try r.zigzag()
            case (.tokensOut, Wire.varint): record.usage.tokensOut = try r.zigzag()
            case (.reasoningTokens, Wire.varint): record.usage.reasoningTokens = try r.zigzag()
            case (.serviceTier, Wire.bytes): record.usage.serviceTier = try r.string(r.length())
            case (.requestSize, Wire.varint): record.requestSize = try r.zigzag()
            case (.responseSize, Wire.varint): record.responseSize = try r.zigzag()
            case (.error, Wire.bytes): record.error = try r.string(r.length())
            case (.metadata, Wire.bytes):
                let n = try r.length()
                var nested = WireReader(r.buffer, from: r.position, to: r.position + n)
                record.metadata.append(try decodeMetadata(&nested))
                r.position += n
            case (.requestHeader, Wire.bytes):
                let n = try r.length()
                var nested = WireReader(r.buffer, from: r.position, to: r.position + n)
                record.requestHeaders.append(try decodeHeader(&nested))
                r.position += n
            case (.responseHeader, Wire.bytes):
                let n = try r.length()
                var nested = WireReader(r.buffer, from: r.position, to: r.position + n)
                record.responseHeaders.append(try decodeHeader(&nested))
                r.position += n
            case (.requestBody, Wire.bytes): record.requestBody = try r.bytes(r.length())
            case (.responseBody, Wire.bytes): record.responseBody = try r.bytes(r.length())
            case (.payloadStored, Wire.varint): record.payloadStored = try r.varint() != 0
            case (.logged, Wire.varint): record.logged = try r.varint() != 0
            case (.eventID, Wire.bytes): record.eventID = try r.string(r.length())
            case (.attempt, Wire.varint):
                guard let attempt = Int(exactly: try r.zigzag()) else {
                    throw SegmentError(.corrupt, "attempt out of range")
                }
                record.attempt = attempt
            case (.step, Wire.varint):
                guard let step = Int(exactly: try r.zigzag()) else { throw SegmentError(.corrupt, "step out of range") }
                record.step = step
            case (.cached, Wire.varint): record.cached = try r.varint() != 0
            case (.refusal, Wire.bytes):
                // A refusal this build does not know still marks a usage record; it is read as none.
                record.refusal = GatewayRefusal(rawValue: try r.string(r.length()))
            case (.customCost, Wire.bytes):
                let n = try r.length()
                var nested = WireReader(r.buffer, from: r.position, to: r.position + n)
                record.customCost = try decodeCustomCost(&nested)
                r.position += n
            default: try skip(wire: wire, &r)
            }
        }
        return sawID
    }

    /// Skips one field's value of the given wire type (unknown fields, or known numbers with an unexpected type).
    static func skip(wire: UInt64, _ r: inout WireReader) throws {
        switch wire {
        case Wire.varint: _ = try r.varint()
        case Wire.fixed64: try r.skip(8)
        case Wire.bytes: try r.skip(r.length())
        default: throw SegmentError(.corrupt, "unknown wire type \(wire)")
        }
    }

    private static func decodeMetadata(_ r: inout WireReader) throws -> MetadataEntry {
        var key = ""
        var value = MetadataEntry.Value.string("")
        while !r.isAtEnd {
            let k = try r.varint()
            switch (k >> 3, k & 7) {
            case (MetadataField.key, Wire.bytes): key = try r.string(r.length())
            case (MetadataField.string, Wire.bytes): value = .string(try r.string(r.length()))
            case (MetadataField.number, Wire.fixed64): value = .number(Double(bitPattern: try r.u64()))
            case (MetadataField.bool, Wire.varint): value = .bool(try r.varint() != 0)
            default: try skip(wire: k & 7, &r)
            }
        }
        return MetadataEntry(key, value)
    }

    private static func decodeCustomCost(_ r: inout WireReader) throws -> CustomCost {
        var total: Int64?
        var input: Int64 = 0
        var output: Int64 = 0
        while !r.isAtEnd {
            let k = try r.varint()
            switch (k >> 3, k & 7) {
            case (CustomCostField.total, Wire.varint): total = try r.zigzag()
            case (CustomCostField.perTokenIn, Wire.varint): input = try r.zigzag()
            case (CustomCostField.perTokenOut, Wire.varint): output = try r.zigzag()
            default: try skip(wire: k & 7, &r)
            }
        }
        return total.map(CustomCost.total) ?? .perToken(input: input, output: output)
    }

    private static func decodeHeader(_ r: inout WireReader) throws -> Header {
        var name = ""
        var value = ""
        while !r.isAtEnd {
            let k = try r.varint()
            switch (k >> 3, k & 7) {
            case (HeaderField.name, Wire.bytes): name = try r.string(r.length())
            case (HeaderField.value, Wire.bytes): value = try r.string(r.length())
            default: try skip(wire: k & 7, &r)
            }
        }
        return Header(name, value)
    }
}
