import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

/// `tollgate export`: an account's log metadata (no headers or bodies) as CSV or NDJSON, for other tools.
///
/// Columns: id, created_at (RFC 3339), account, gateway, provider, model, method, path, status_code, success,
/// stream, duration_ms, ttft_ms, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens,
/// tokens_out, reasoning_tokens, service_tier, cost (USD, exact decimal; empty/null = unpriced), custom_cost, error.
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

        let high = LogID.lowerBound(milliseconds: toMs).bytes
        var after = Catalog.exclusiveLowerBound(fromMs)
        var count = 0
        while true {
            let rows = try catalog.read { db in
                try db.query(
                    NamedQueries.sql("export_logs"),
                    [.text(account), .blob(after), .blob(high), .integer(10_000)]
                ) { row in try Self.fields(row, account: account) }
            }
            guard let last = rows.last else { break }
            after = last.id
            for row in rows {
                switch format {
                case .csv: buffer += row.values.map(Self.csvField).joined(separator: ",") + "\r\n"
                case .ndjson: buffer += Self.ndjsonLine(row.values) + "\n"
                }
                flush()
            }
            count += rows.count
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

    static func fields(_ row: SQLiteStatement, account: String) throws -> (id: [UInt8], values: [Value?]) {
        let idBytes = row.blob(at: 0)
        guard let id = LogID(bytes: idBytes) else { throw ValidationError("a log id is not 16 bytes") }
        func int(_ i: Int) -> Value? { row.optionalInt64(at: i).map { .number(String($0)) } }
        func text(_ i: Int) -> Value? { row.optionalString(at: i).map { .text($0) } }
        func millis(_ i: Int) -> Value? {
            row.optionalInt64(at: i).map { .number(ExactDecimal.text(Int128($0), scale: 3)) }
        }
        let values: [Value?] = [
            .text(id.description), .text(RFC3339.format(milliseconds: row.int64(at: 1))), .text(account), text(2),
            text(3), text(4), text(5), text(6), int(7), .bool(row.int64(at: 8) != 0), .bool(row.int64(at: 9) != 0),
            millis(10), millis(11), int(12), int(13), int(14), int(15), int(16), int(17), text(18),
            row.optionalInt64(at: 19).map { .number(ExactDecimal.text(Int128($0), scale: 12)) },
            .bool(row.int64(at: 20) != 0), text(21),
        ]
        return (idBytes, values)
    }

    /// RFC 4180: quoted when it holds a comma, quote or line break; quotes doubled. Empty for null.
    static func csvField(_ value: Value?) -> String {
        switch value {
        case nil: return ""
        case .number(let n): return n
        case .bool(let b): return b ? "true" : "false"
        case .text(let t):
            guard t.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return t }
            return "\"" + t.replacingOccurrences(of: "\"", with: "\"\"") + "\""
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
