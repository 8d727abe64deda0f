import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate export`: an account's log metadata (no headers or bodies) as CSV or NDJSON, for other tools.
///
/// Columns: id, created_at (RFC 3339), account, gateway, provider, model, method, path, status_code, success,
/// stream, duration_ms, ttft_ms, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens,
/// tokens_out, reasoning_tokens, service_tier, cost (USD, exact decimal; empty/null = unpriced), custom_cost, error,
/// event_id, attempt, step (empty/null = not the universal endpoint), cached, saved (USD a cache hit saved),
/// feedback (-1 or 1), score (0–100).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Export an account's log metadata as CSV or NDJSON.")

    enum Format: String, ExpressibleByArgument, CaseIterable { case csv, ndjson }

    @OptionGroup var data: DataFolderOptions
    @Option(help: "Account to export.") var account: String
    @Option(help: "Start (inclusive): YYYY-MM-DD or RFC 3339.") var from: String
    @Option(help: "End (exclusive): YYYY-MM-DD or RFC 3339.") var to: String
    @Option(help: "csv or ndjson.") var format: Format = .csv
    @Option(help: "Output file (default: standard output).") var output: String?

    static let columns = [
        "id", "created_at", "account", "gateway", "provider", "model", "method", "path", "status_code", "success",
        "stream", "duration_ms", "ttft_ms", "tokens_in", "cached_tokens_in", "cache_write_tokens",
        "cache_write_1h_tokens", "tokens_out", "reasoning_tokens", "service_tier", "cost", "custom_cost", "error",
        "event_id", "attempt", "step", "cached", "saved", "feedback", "score",
    ]

    func run() throws {
        let fromMs = try parseDate(from, option: "--from")
        let toMs = try parseDate(to, option: "--to")
        guard fromMs < toMs else { throw ValidationError("--to must be after --from") }
        let catalog = try Catalog(dataDirectory: data.path, logger: DataFolderOptions.logger())
        guard try catalog.account(account) != nil else { throw ValidationError("no account \(account)") }

        let sink: FileHandle
        if let output {
            FileManager.default.createFile(atPath: output, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: output) else {
                throw ValidationError("cannot write \(output)")
            }
            sink = handle
        } else {
            sink = FileHandle.standardOutput
        }
        var buffer = ""
        buffer.reserveCapacity(1 << 20)
        func flush(force: Bool = false) {
            guard force || buffer.utf8.count >= 1 << 20 else { return }
            sink.write(Data(buffer.utf8))
            buffer.removeAll(keepingCapacity: true)
        }
        if format == .csv { buffer += Self.columns.joined(separator: ",") + "\r\n" }

        var after: LogID?
        var count = 0
        while true {
            let logs = try catalog.exportedLogs(account: account, from: fromMs, to: toMs, after: after, limit: 10_000)
            guard let last = logs.last else { break }
            after = last.id
            for log in logs {
                let values = Self.fields(log, account: account)
                switch format {
                case .csv: buffer += values.map(Self.csvField).joined(separator: ",") + "\r\n"
                case .ndjson: buffer += Self.ndjsonLine(values) + "\n"
                }
                flush()
            }
            count += logs.count
        }
        flush(force: true)
        if output != nil {
            try sink.close()
            FileHandle.standardError.write(Data("exported \(count) logs\n".utf8))
        }
    }

    /// A row as typed values: .text, .number (written bare), .bool or nil.
    enum Value {
        case text(String)
        case number(String)
        case bool(Bool)
    }

    /// A log's values in the order of `columns`.
    static func fields(_ log: ExportedLog, account: String) -> [Value?] {
        func int(_ value: Int64?) -> Value? { value.map { .number(String($0)) } }
        func millis(_ micros: Int64?) -> Value? { micros.map { .number(ExactDecimal.text(Int128($0), scale: 3)) } }
        return [
            .text(log.id.description), .text(RFC3339.format(milliseconds: log.createdAt)), .text(account),
            .text(log.gateway), .text(log.provider), log.model.map { .text($0) }, .text(log.method), .text(log.path),
            .number(String(log.statusCode)), .bool(log.success), .bool(log.stream), millis(log.durationMicros),
            millis(log.ttftMicros), int(log.usage.tokensIn), int(log.usage.cachedTokensIn),
            int(log.usage.cacheWriteTokens), int(log.usage.cacheWrite1hTokens), int(log.usage.tokensOut),
            int(log.usage.reasoningTokens), log.usage.serviceTier.map { .text($0) },
            log.cost.map { .number(ExactDecimal.text(Int128($0), scale: 12)) }, .bool(log.customCost),
            log.error.map { .text($0) }, .text(log.eventID), .number(String(log.attempt)),
            log.step.map { .number(String($0)) }, .bool(log.cached),
            log.saved.map { .number(ExactDecimal.text(Int128($0), scale: 12)) },
            log.feedback.map { .number(String($0)) }, log.score.map { .number(String($0)) },
        ]
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. Empty for null.
    static func csvField(_ value: Value?) -> String {
        switch value {
        case nil: return ""
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .text(let t): return CSV.field(t)
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
