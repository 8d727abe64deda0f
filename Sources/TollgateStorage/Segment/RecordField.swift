import TollgateModel

/// A log record's fields as the store keeps them, declared once: each field's number in the record encoding (the
/// raw value; FORMAT.md, "Record encoding"), and, for the fields a segment's columns frame holds, the column's tag
/// and how it is stored (`column`; FORMAT.md, "Columns frame"). The record codec, the columns' writer and reader,
/// the listing through segment columns and the index entries read from them all follow this declaration. Numbers
/// and tags are on disk: a new field takes new ones, and neither is ever reused.
public enum RecordField: UInt64, CaseIterable, Sendable {
    case id = 1
    case createdAt, account, gateway, provider, model, path, method, statusCode, success, stream, durationMicros
    case ttftMicros, tokensIn, cachedTokensIn, cacheWriteTokens, cacheWrite1hTokens, tokensOut, reasoningTokens
    case serviceTier, requestSize, responseSize, error, metadata, requestHeader, responseHeader, requestBody
    case responseBody, payloadStored, customCost, logged, eventID, attempt, step, cached, refusal

    /// The field's column in a segment's columns frame, nil for what only the record holds (headers, bodies).
    ///
    /// Tags 1–21 are the columns every sealed segment has had (2 and 3, where each record is, are not fields:
    /// `LogColumn.offset` and `.length`); 22–34 carry the rest of what a log listing shows, so a sealed segment
    /// answers a listing without the catalog.
    public var column: (tag: UInt64, kind: LogColumn.Kind)? {
        switch self {
        case .id: (1, .ids)
        case .createdAt: (4, .deltaZigzags)
        case .account: (5, .strings)
        case .gateway: (6, .strings)
        case .provider: (7, .strings)
        case .model: (8, .strings)
        case .statusCode: (9, .varints)
        case .success: (10, .bitmap)
        case .stream: (11, .bitmap)
        case .tokensIn: (12, .nullable)
        case .tokensOut: (13, .nullable)
        case .cachedTokensIn: (14, .nullable)
        case .cacheWriteTokens: (15, .nullable)
        case .cacheWrite1hTokens: (16, .nullable)
        case .reasoningTokens: (17, .nullable)
        case .durationMicros: (18, .zigzags)
        case .ttftMicros: (19, .nullable)
        case .requestSize: (20, .zigzags)
        case .responseSize: (21, .zigzags)
        case .method: (22, .strings)
        case .path: (23, .strings)
        case .serviceTier: (24, .strings)
        case .error: (25, .strings)
        case .metadata: (26, .strings)
        case .payloadStored: (27, .bitmap)
        case .customCost: (28, .bitmap)
        case .logged: (29, .bitmap)
        case .eventID: (30, .strings)
        case .attempt: (31, .zigzags)
        case .step: (32, .nullable)
        case .cached: (33, .bitmap)
        case .refusal: (34, .strings)
        case .requestHeader, .responseHeader, .requestBody, .responseBody: nil
        }
    }

    /// The value of a `.strings` column's field in the record `record` points to. The record is read where it lies,
    /// field by field: passed by value, it was copied first for each text column (the metadata's encoding is a call),
    /// 12,000 instructions a record in the segment writer's columns instead of 3,100 (callgrind).
    func string(of record: UnsafePointer<LogRecord>) -> String? {
        self == .metadata ? LogMetadataJSON.encode(record.pointee.metadata) : storedString(of: record.pointee)
    }

    /// The value of a `.strings` column's field held as a text in `record`: every one but `.metadata`, which is
    /// encoded (`string(of:)`). Reading these calls nothing, so a record read through a pointer is not copied
    /// first to keep it alive across a call.
    @inline(__always)
    func storedString(of record: LogRecord) -> String? {
        switch self {
        case .account: record.account
        case .gateway: record.gateway
        case .provider: record.provider
        case .model: record.model
        case .method: record.method
        case .path: record.path
        case .serviceTier: record.usage.serviceTier
        case .error: record.error
        case .eventID: record.eventID
        case .refusal: record.refusal?.rawValue
        default: preconditionFailure("\(self) has no stored string column")
        }
    }

    /// The value of an integer column's field (`.varints`, `.zigzags`, `.nullable`) in `record`.
    @inline(__always)
    func integer(of record: LogRecord) -> Int64? {
        switch self {
        case .statusCode: Int64(UInt16(clamping: record.statusCode))
        case .durationMicros: record.durationMicros
        case .requestSize: record.requestSize
        case .responseSize: record.responseSize
        case .attempt: Int64(record.attempt)
        case .tokensIn: record.usage.tokensIn
        case .tokensOut: record.usage.tokensOut
        case .cachedTokensIn: record.usage.cachedTokensIn
        case .cacheWriteTokens: record.usage.cacheWriteTokens
        case .cacheWrite1hTokens: record.usage.cacheWrite1hTokens
        case .reasoningTokens: record.usage.reasoningTokens
        case .ttftMicros: record.ttftMicros
        case .step: record.step.map { Int64($0) }
        default: preconditionFailure("\(self) has no integer column")
        }
    }

    /// The value of a `.bitmap` column's field in `record`.
    @inline(__always)
    func flag(of record: LogRecord) -> Bool {
        switch self {
        case .success: record.success
        case .stream: record.stream
        case .payloadStored: record.payloadStored
        case .customCost: record.customCost != nil
        case .logged: record.logged
        case .cached: record.cached
        default: preconditionFailure("\(self) has no flag column")
        }
    }

    /// Sets the field of a `.strings` column in `record` (the metadata entries, whose column holds their JSON text,
    /// excepted: a version 4 record keeps them in its payload part).
    func setString(_ value: String?, in record: inout LogRecord) {
        switch self {
        case .account: record.account = value ?? ""
        case .gateway: record.gateway = value ?? ""
        case .provider: record.provider = value ?? ""
        case .model: record.model = value
        case .method: record.method = value ?? ""
        case .path: record.path = value ?? ""
        case .serviceTier: record.usage.serviceTier = value
        case .error: record.error = value
        case .eventID: record.eventID = value
        case .refusal: record.refusal = value.flatMap(GatewayRefusal.init(rawValue:))
        default: preconditionFailure("\(self) has no stored string column")
        }
    }

    /// Sets the field of an integer column in `record`.
    func setInteger(_ value: Int64?, in record: inout LogRecord) {
        switch self {
        case .statusCode: record.statusCode = Int(value ?? 0)
        case .durationMicros: record.durationMicros = value ?? 0
        case .requestSize: record.requestSize = value ?? 0
        case .responseSize: record.responseSize = value ?? 0
        case .attempt: record.attempt = Int(value ?? 1)
        case .tokensIn: record.usage.tokensIn = value
        case .tokensOut: record.usage.tokensOut = value
        case .cachedTokensIn: record.usage.cachedTokensIn = value
        case .cacheWriteTokens: record.usage.cacheWriteTokens = value
        case .cacheWrite1hTokens: record.usage.cacheWrite1hTokens = value
        case .reasoningTokens: record.usage.reasoningTokens = value
        case .ttftMicros: record.ttftMicros = value
        case .step: record.step = value.map { Int($0) }
        default: preconditionFailure("\(self) has no integer column")
        }
    }

    /// Sets the field of a `.bitmap` column in `record` (the custom cost's flag excepted: its value is in a version 4
    /// record's payload part).
    func setFlag(_ value: Bool, in record: inout LogRecord) {
        switch self {
        case .success: record.success = value
        case .stream: record.stream = value
        case .payloadStored: record.payloadStored = value
        case .customCost: break
        case .logged: record.logged = value
        case .cached: record.cached = value
        default: preconditionFailure("\(self) has no flag column")
        }
    }

    /// What a flag reads as where it was not written: the record encoding's default for the field.
    var absentFlag: Bool { self == .payloadStored || self == .logged }

    /// What an integer reads as where it was not written.
    var absentInteger: Int64? {
        switch column?.kind {
        case .nullable: nil
        default: self == .attempt ? 1 : 0
        }
    }

    /// The column's kind; traps for a field without one.
    var kind: LogColumn.Kind {
        guard let column else { preconditionFailure("\(self) has no column") }
        return column.kind
    }

    /// The fields with a column of each kind that is stored in a per-kind array, and each one's position in its
    /// array (`slot`).
    static let stringColumns = allCases.filter { $0.column?.kind == .strings }
    static let integerColumns = allCases.filter {
        [LogColumn.Kind.varints, .zigzags, .nullable].contains($0.column?.kind)
    }
    static let flagColumns = allCases.filter { $0.column?.kind == .bitmap }
    private static let slots: [Int] = {
        var slots = [Int](repeating: -1, count: allCases.count + 1)
        for list in [stringColumns, integerColumns, flagColumns] {
            for (slot, field) in list.enumerated() { slots[Int(field.rawValue)] = slot }
        }
        return slots
    }()

    /// The field's position among the columns of its kind (`stringColumns`, `integerColumns`, `flagColumns`).
    var slot: Int { Self.slots[Int(rawValue)] }
}
