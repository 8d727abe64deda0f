import Foundation
import Testing
import TollgateModel

@testable import TollgateStorage

/// `ExportEncoder` against the export's earlier `String` formatting, kept here as the reference: the same bytes
/// for values that take its byte paths and for those that fall back to strings.
@Suite struct ExportEncoderTests {
    private static let start: Int64 = 1_750_000_000_000

    /// Texts meant to hit every branch: plain ASCII, commas, quotes, CR LF (quoted in CSV),
    /// lone CR or LF, control characters, non-ASCII, a quote with a combining accent (one character that is no
    /// quote), tabs and backslashes.
    private static let texts = [
        "plain", "a,b", "say \"hi\"", "line1\r\nline2", "lone\nfeed", "lone\rreturn", "bell\u{07}tab\t",
        "back\\slash/", "café, naïve", "\"\u{301}x", "emoji 🙂", "", " spaced ", "\r\r\n", "\u{7F}del",
    ]

    private func entries() -> [LogIndexEntry] {
        let generator = LogIDGenerator()
        var made: [LogIndexEntry] = []
        let texts = Self.texts
        let costs: [Int64?] = [nil, 0, 1, 1_000_000_000_000, 123_456_789_012_345, -2_500_000_000_000, Int64.max, 10]
        for i in 0..<40 {
            // Some days apart (the encoder keeps the last date), some a millisecond apart.
            let at = Self.start + Int64(i) * (i % 3 == 0 ? 86_400_000 : 1) + Int64(i % 7) * 3_599_999
            let id = generator.next(millisecondsSinceEpoch: at)
            let text = texts[i % texts.count]
            made.append(
                LogIndexEntry(
                    id: id, createdAt: i == 5 ? 0 : id.milliseconds, account: "default",
                    gateway: i % 4 == 0 ? "g,\(i % 2)" : "g\(i % 2)", provider: i % 5 == 0 ? "prov\"q" : "openai",
                    model: i % 6 == 4 ? nil : (i % 2 == 0 ? "gpt-4o" : "mödel, \(i % 3)"),
                    method: i % 9 == 0 ? "PO,ST" : "POST", path: i % 2 == 0 ? "/chat/completions" : text,
                    statusCode: i == 3 ? -1 : 200 + i, success: i % 2 == 0, stream: i % 3 == 1,
                    durationMicros: [0, 1, 999, 1000, 1_234_567, 10, 100_000, -1500][i % 8],
                    ttftMicros: i % 2 == 0 ? Int64(100 + i * 37) : nil,
                    usage: Usage(
                        tokensIn: i % 4 == 1 ? nil : Int64(i), cachedTokensIn: i % 3 == 0 ? nil : Int64.max,
                        cacheWriteTokens: Int64.min + 1, cacheWrite1hTokens: 0, tokensOut: Int64(2 * i),
                        reasoningTokens: i % 2 == 0 ? nil : -4, serviceTier: i % 3 == 2 ? text : nil),
                    requestSize: 10, responseSize: 20, error: i % 2 == 1 ? text : nil,
                    cost: costs[i % costs.count], customCost: i % 3 == 0,
                    location: RecordLocation(segment: 0, offset: UInt64(i) * 64, length: 64),
                    eventID: i % 7 == 6 ? texts[(i + 3) % texts.count] : nil, attempt: i % 7 == 6 ? 2 : 1,
                    cached: i % 8 == 7, saved: i % 8 == 7 ? costs[(i + 2) % costs.count] : nil))
        }
        return made
    }

    @Test(arguments: [ExportEncoder.Format.csv, .ndjson])
    func exportBytesMatchTheStringFormatting(format: ExportEncoder.Format) throws {
        try withTemporaryCatalogDirectory { dir in
            let catalog = try Catalog(dataDirectory: dir)
            let all = entries()
            try catalog.insertLogs(all)
            _ = try catalog.annotateLog(
                account: "default", id: all[4].id, LogAnnotation(feedback: -1, score: 12), at: 0)
            _ = try catalog.annotateLog(account: "default", id: all[9].id, LogAnnotation(feedback: 1), at: 0)

            var expected = format == .csv ? Reference.columns.joined(separator: ",") + "\r\n" : ""
            let logs = try catalog.exportedLogs(
                account: "default", from: 0, to: Self.start + 100 * 86_400_000, after: nil, limit: 1000)
            #expect(logs.count == all.count)
            for log in logs {
                let values = Reference.fields(log, account: "default")
                switch format {
                case .csv: expected += values.map(Reference.csvField).joined(separator: ",") + "\r\n"
                case .ndjson: expected += Reference.ndjsonLine(values) + "\n"
                }
            }

            // Small pages and a small buffer, so both cross rows.
            var encoder = ExportEncoder(format: format, capacity: 64)
            encoder.appendHeader()
            var rows = 0
            try catalog.forEachExportedLog(
                account: "default", from: 0, to: Self.start + 100 * 86_400_000, pageSize: 7
            ) { entry in
                encoder.append(entry)
                rows += 1
            }
            #expect(rows == all.count)
            let written = encoder.withBytes { String(decoding: $0, as: UTF8.self) }
            #expect(written == expected)
            if written != expected {
                for (a, b) in zip(written.split(separator: "\n"), expected.split(separator: "\n")) where a != b {
                    Issue.record("got \(a.debugDescription)\nwant \(b.debugDescription)")
                    break
                }
            }
        }
    }

    /// The `tollgate export` formatting before `ExportEncoder`, value by value through `String`s.
    enum Reference {
        enum Value {
            case text(String)
            case number(String)
            case bool(Bool)
        }

        /// The columns as the export has always written them.
        static let columns = [
            "id", "created_at", "account", "gateway", "provider", "model", "method", "path", "status_code", "success",
            "stream", "duration_ms", "ttft_ms", "tokens_in", "cached_tokens_in", "cache_write_tokens",
            "cache_write_1h_tokens", "tokens_out", "reasoning_tokens", "service_tier", "cost", "custom_cost", "error",
            "event_id", "attempt", "step", "cached", "saved", "feedback", "score",
        ]

        static func fields(_ log: LogIndexEntry, account: String) -> [Value?] {
            func int(_ value: Int64?) -> Value? { value.map { .number(String($0)) } }
            func millis(_ micros: Int64?) -> Value? {
                micros.map { .number(ExactDecimal.text(Int128($0), scale: 3)) }
            }
            return [
                .text(log.id.description), .text(RFC3339.format(milliseconds: log.createdAt)), .text(account),
                .text(log.gateway), .text(log.provider), log.model.map { .text($0) }, .text(log.method),
                .text(log.path), .number(String(log.statusCode)), .bool(log.success), .bool(log.stream),
                millis(log.durationMicros), millis(log.ttftMicros), int(log.usage.tokensIn),
                int(log.usage.cachedTokensIn), int(log.usage.cacheWriteTokens), int(log.usage.cacheWrite1hTokens),
                int(log.usage.tokensOut), int(log.usage.reasoningTokens), log.usage.serviceTier.map { .text($0) },
                log.cost.map { .number(ExactDecimal.text(Int128($0), scale: 12)) }, .bool(log.customCost),
                log.error.map { .text($0) }, .text(log.effectiveEventID), .number(String(log.attempt)),
                log.step.map { .number(String($0)) }, .bool(log.cached),
                log.saved.map { .number(ExactDecimal.text(Int128($0), scale: 12)) },
                log.annotation?.feedback.map { .number(String($0)) }, log.annotation?.score.map { .number(String($0)) },
            ]
        }

        static func csvField(_ value: Value?) -> String {
            switch value {
            case nil: return ""
            case .number(let n): return n
            case .bool(let b): return b ? "true" : "false"
            case .text(let t):
                // By bytes (RFC 4180): a CR LF pair and a quote carrying a combining accent are quoted too.
                guard t.utf8.contains(where: { [0x2C, 0x22, 0x0A, 0x0D].contains($0) }) else { return t }
                let doubled = t.utf8.flatMap { $0 == 0x22 ? [0x22, 0x22] : [$0] }
                return "\"" + String(decoding: doubled, as: UTF8.self) + "\""
            }
        }

        static func ndjsonLine(_ values: [Value?]) -> String {
            var out = "{"
            for (index, name) in columns.enumerated() {
                if index > 0 { out += "," }
                out += "\"\(name)\":"
                switch values[index] {
                case nil: out += "null"
                case .number(let n): out += n
                case .bool(let b): out += b ? "true" : "false"
                case .text(let t): out += JSONText.quoted(t)
                }
            }
            return out + "}"
        }
    }
}
