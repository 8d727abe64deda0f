import ArgumentParser
import Foundation
import TollgateAnalytics
import TollgateModel
import TollgateStorage

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `tollgate export`: an account's log metadata (no headers or bodies) as CSV or NDJSON, for other tools.
///
/// Columns: id, created_at (RFC 3339), account, gateway, provider, model, method, path, status_code, success,
/// stream, duration_ms, ttft_ms, tokens_in, cached_tokens_in, cache_write_tokens, cache_write_1h_tokens,
/// tokens_out, reasoning_tokens, service_tier, cost (USD, exact decimal; empty/null = unpriced), custom_cost, error,
/// event_id, attempt, step (empty/null = not the universal endpoint), cached, saved (USD a cache hit saved),
/// feedback (-1 or 1), score (0–100).
///
/// The columns are `LogField.exported`, the API's names for the same fields. Each log's index entry is encoded into
/// one byte buffer (`ExportEncoder`), written out 1 MiB at a time.
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

    /// Bytes collected before a write.
    static let writeSize = 1 << 20

    func run() throws {
        let fromMs = try parseDate(from, option: "--from")
        let toMs = try parseDate(to, option: "--to")
        guard fromMs < toMs else { throw ValidationError("--to must be after --from") }
        let catalog = try Catalog(dataDirectory: data.path, logger: DataFolderOptions.logger())
        guard try catalog.account(account) != nil else { throw ValidationError("no account \(account)") }
        // The logs of the segment being written are in the writing gateway's memory, not in the catalog: read them
        // from the segment, priced as the gateway prices them.
        let prices = try PriceBook(catalog: catalog, shipped: PriceTable.shipped())
        try catalog.loadUnsealedLogs(price: prices.price(of:))

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
        let descriptor = sink.fileDescriptor
        var encoder = ExportEncoder(format: format == .csv ? .csv : .ndjson)
        encoder.appendHeader()
        var count = 0
        try catalog.forEachExportedLog(account: account, from: fromMs, to: toMs) { entry in
            encoder.append(entry)
            count += 1
            if encoder.count >= Self.writeSize { try Self.flush(&encoder, to: descriptor) }
        }
        try Self.flush(&encoder, to: descriptor)
        if output != nil {
            try sink.close()
            FileHandle.standardError.write(Data("exported \(count) logs\n".utf8))
        }
    }

    /// Writes what the encoder holds, all of it, and empties it.
    static func flush(_ encoder: inout ExportEncoder, to descriptor: Int32) throws {
        try encoder.withBytes { bytes in
            var done = 0
            while done < bytes.count {
                let written = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw ExportWriteError(message: String(cString: strerror(errno)))
                }
                done += written
            }
        }
        encoder.removeAll()
    }
}

struct ExportWriteError: Error, CustomStringConvertible {
    var message: String
    var description: String { "export: write failed: \(message)" }
}
