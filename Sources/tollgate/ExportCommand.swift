import ArgumentParser
import Foundation
import Synchronization
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
/// one byte buffer (`ExportEncoder`), handed out 1 MiB at a time to a thread that writes it (`ExportWriter`), so the
/// next MiB is encoded while the kernel copies the last.
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
            _ = FileManager.default.createFile(atPath: output, contents: nil)
            guard let handle = FileHandle(forWritingAtPath: output) else {
                throw ValidationError("cannot write \(output)")
            }
            sink = handle
        } else {
            sink = FileHandle.standardOutput
        }
        let writer = ExportWriter(descriptor: sink.fileDescriptor)
        var encoder = ExportEncoder(format: format == .csv ? .csv : .ndjson)
        encoder.appendHeader()
        var count = 0
        try catalog.forEachExportedLog(account: account, from: fromMs, to: toMs) { entry in
            encoder.append(entry)
            count += 1
            if encoder.count >= Self.writeSize { try writer.write(Self.take(&encoder)) }
        }
        try writer.write(Self.take(&encoder))
        try writer.finish()
        if output != nil {
            try sink.close()
            FileHandle.standardError.write(Data("exported \(count) logs\n".utf8))
        }
    }

    /// What the encoder holds, copied out; the encoder emptied.
    static func take(_ encoder: inout ExportEncoder) -> [UInt8] {
        defer { encoder.removeAll() }
        return encoder.withBytes { Array($0) }
    }
}

/// Writes buffers to a file descriptor, in order, on a thread of its own: at most two wait while the caller
/// encodes the next. A failed write is reported by the next `write` or by `finish`, and nothing after it is
/// written.
final class ExportWriter: Sendable {
    let descriptor: Int32
    private let queue = DispatchQueue(label: "tollgate.export.write")
    private let slots = DispatchSemaphore(value: 2)
    private let failure = Mutex<ExportWriteError?>(nil)

    init(descriptor: Int32) { self.descriptor = descriptor }

    func write(_ bytes: [UInt8]) throws {
        if let failure = failure.withLock({ $0 }) { throw failure }
        guard !bytes.isEmpty else { return }
        slots.wait()
        queue.async {
            defer { self.slots.signal() }
            guard self.failure.withLock({ $0 == nil }) else { return }
            if let error = writeAll(bytes, to: self.descriptor) { self.failure.withLock { $0 = error } }
        }
    }

    /// Waits for every buffer handed over to be written.
    func finish() throws {
        queue.sync {}
        if let failure = failure.withLock({ $0 }) { throw failure }
    }
}

/// Writes all of `bytes`; the error when a write fails.
private func writeAll(_ bytes: [UInt8], to descriptor: Int32) -> ExportWriteError? {
    bytes.withUnsafeBytes { bytes in
        var done = 0
        while done < bytes.count {
            let written = write(descriptor, bytes.baseAddress! + done, bytes.count - done)
            if written < 0 {
                if errno == EINTR { continue }
                return ExportWriteError(message: String(cString: strerror(errno)))
            }
            done += written
        }
        return nil
    }
}

struct ExportWriteError: Error, CustomStringConvertible, Sendable {
    var message: String
    var description: String { "export: write failed: \(message)" }
}
