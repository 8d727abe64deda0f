import TollgateModel

/// The columns of a segment's columns frame (FORMAT.md, "Columns frame"): one declaration that the writer
/// (`ColumnBuilder`), the reader (`ColumnBlock.decode`) and the listing through segments (`LogColumnScan`) follow.
/// The raw value is the column's tag in the frame; a tag is never reused.
///
/// Tags 1–21 are the columns every sealed segment has had; 22–34 carry the rest of what a log listing shows, so a
/// sealed segment can answer a listing without the catalog. A segment sealed before they existed lacks them
/// (`ColumnBlock.hasListingColumns`).
public enum LogColumn: UInt64, CaseIterable, Sendable {
    case id = 1
    case offset, length, createdAt, account, gateway, provider, model, statusCode, success, stream
    case tokensIn, tokensOut, cachedTokensIn, cacheWriteTokens, cacheWrite1hTokens, reasoningTokens
    case durationMicros, ttftMicros, requestSize, responseSize
    case method = 22
    case path, serviceTier, error, metadata, payloadStored, customCost, logged, eventID, attempt, step, cached
    case refusal

    /// How a column's rows are stored.
    enum Kind: Sendable {
        /// 16 bytes per row (the id column).
        case ids
        /// Unsigned varints of the difference from the previous row (frame offsets).
        case deltaVarints
        /// Zigzag varints of the difference from the previous row (created_at).
        case deltaZigzags
        /// An unsigned varint per row (stored frame lengths).
        case lengths
        /// An unsigned varint per row, never nil.
        case varints
        /// A zigzag varint per row, never nil.
        case zigzags
        /// A presence bitmap, then a zigzag varint per present row.
        case nullable
        /// One bit per row.
        case bitmap
        /// A dictionary of distinct values, then a varint code per row (0 = nil).
        case strings
    }

    var kind: Kind {
        switch self {
        case .id: .ids
        case .offset: .deltaVarints
        case .length: .lengths
        case .statusCode: .varints
        case .createdAt: .deltaZigzags
        case .durationMicros, .requestSize, .responseSize, .attempt: .zigzags
        case .tokensIn, .tokensOut, .cachedTokensIn, .cacheWriteTokens, .cacheWrite1hTokens, .reasoningTokens,
            .ttftMicros, .step:
            .nullable
        case .success, .stream, .payloadStored, .customCost, .logged, .cached: .bitmap
        case .account, .gateway, .provider, .model, .method, .path, .serviceTier, .error, .metadata, .eventID,
            .refusal:
            .strings
        }
    }

    /// Part of what a listing reads (tags 22 and on): a segment without them cannot answer a listing by itself.
    var isListingColumn: Bool { rawValue >= LogColumn.method.rawValue }

    /// The value of a `.strings` column for `record`.
    func string(of record: LogRecord) -> String? {
        switch self {
        case .account: record.account
        case .gateway: record.gateway
        case .provider: record.provider
        case .model: record.model
        case .method: record.method
        case .path: record.path
        case .serviceTier: record.usage.serviceTier
        case .error: record.error
        case .metadata: LogMetadataJSON.encode(record.metadata)
        case .eventID: record.eventID
        case .refusal: record.refusal?.rawValue
        default: preconditionFailure("\(self) is not a string column")
        }
    }

    /// The value of an integer column (`.varints`, `.zigzags`, `.nullable`) for `record`.
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
        default: preconditionFailure("\(self) is not an integer column")
        }
    }

    /// The value of a `.bitmap` column for `record`.
    func flag(of record: LogRecord) -> Bool {
        switch self {
        case .success: record.success
        case .stream: record.stream
        case .payloadStored: record.payloadStored
        case .customCost: record.customCost != nil
        case .logged: record.logged
        case .cached: record.cached
        default: preconditionFailure("\(self) is not a flag column")
        }
    }

    /// What every row of a `.bitmap` column reads as in a segment written without it: the record encoding's
    /// default for the field (FORMAT.md, "Record encoding").
    var absentFlag: Bool { self == .payloadStored || self == .logged }

    /// What every row of an integer column reads as in a segment written without it.
    var absentInteger: Int64? {
        switch kind {
        case .nullable: nil
        default: self == .attempt ? 1 : 0
        }
    }

    /// The columns of each kind that are stored in a per-kind array, and each column's position in its array.
    static let stringColumns = allCases.filter { $0.kind == .strings }
    static let integerColumns = allCases.filter { [.varints, .zigzags, .nullable].contains($0.kind) }
    static let flagColumns = allCases.filter { $0.kind == .bitmap }
    private static let slots: [Int] = {
        var slots = [Int](repeating: -1, count: Int(allCases.map(\.rawValue).max()!) + 1)
        for list in [stringColumns, integerColumns, flagColumns] {
            for (slot, column) in list.enumerated() { slots[Int(column.rawValue)] = slot }
        }
        return slots
    }()

    /// The column's position among the columns of its kind (`stringColumns`, `integerColumns`, `flagColumns`).
    var slot: Int { Self.slots[Int(rawValue)] }

    /// A set of columns, as a bit per tag.
    struct Set: Sendable, Hashable {
        var bits: UInt64 = 0
        static let all = Set(bits: LogColumn.allCases.reduce(0) { $0 | 1 << $1.rawValue })
        static let listing = Set(bits: LogColumn.allCases.filter(\.isListingColumn).reduce(0) { $0 | 1 << $1.rawValue })
        func contains(_ column: LogColumn) -> Bool { bits & 1 << column.rawValue != 0 }
        mutating func insert(_ column: LogColumn) { bits |= 1 << column.rawValue }
        func isSuperset(of other: Set) -> Bool { bits & other.bits == other.bits }
    }
}
