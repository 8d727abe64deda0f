import TollgateModel

extension LogIndexEntry {
    /// The index entry of row `row` of a segment's columns (a segment with its listing columns), with what the
    /// catalog keeps beside the immutable segment: its cost as priced (`saved` for a cache hit) and its annotation.
    public init(columns b: ColumnBlock, row: Int, cost: Int64?, saved: Int64?, annotation: LogAnnotation?) {
        func string(_ field: RecordField) -> String? { b.strings[field.slot][row] }
        func integer(_ field: RecordField) -> Int64? { b.integers[field.slot][row] }
        func flag(_ field: RecordField) -> Bool { b.flags[field.slot][row] }
        let usage = Usage(
            tokensIn: integer(.tokensIn), cachedTokensIn: integer(.cachedTokensIn),
            cacheWriteTokens: integer(.cacheWriteTokens), cacheWrite1hTokens: integer(.cacheWrite1hTokens),
            tokensOut: integer(.tokensOut), reasoningTokens: integer(.reasoningTokens),
            serviceTier: string(.serviceTier))
        self.init(
            id: b.ids[row], createdAt: b.createdAt[row], account: string(.account) ?? "",
            gateway: string(.gateway) ?? "", provider: string(.provider) ?? "", model: string(.model),
            method: string(.method) ?? "", path: string(.path) ?? "", statusCode: Int(integer(.statusCode) ?? 0),
            success: flag(.success), stream: flag(.stream), durationMicros: integer(.durationMicros) ?? 0,
            ttftMicros: integer(.ttftMicros), usage: usage, requestSize: integer(.requestSize) ?? 0,
            responseSize: integer(.responseSize) ?? 0, error: string(.error),
            metadata: string(.metadata).flatMap(LogMetadataJSON.decode) ?? [], payloadStored: flag(.payloadStored),
            cost: cost, customCost: flag(.customCost), location: b.location(row: row), eventID: string(.eventID),
            attempt: Int(integer(.attempt) ?? 1), step: integer(.step).map { Int($0) }, cached: flag(.cached),
            saved: saved, refusal: string(.refusal).flatMap(GatewayRefusal.init(rawValue:)), annotation: annotation)
    }
}
