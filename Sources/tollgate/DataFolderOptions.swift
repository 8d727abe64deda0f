import ArgumentParser
import Foundation
import Logging
import TollgateModel

/// `--data`, shared by every command that works on a data folder.
struct DataFolderOptions: ParsableArguments {
    @Option(name: .customLong("data"), help: "Data folder (env TOLLGATE_DATA; default ./tollgate-data).")
    var dataDirectory: String?

    var path: String {
        dataDirectory ?? ProcessInfo.processInfo.environment["TOLLGATE_DATA"] ?? "./tollgate-data"
    }

    /// A logger for commands: warnings and worse, on standard error.
    static func logger() -> Logger {
        var logger = Logger(label: "tollgate")
        logger.logLevel = .warning
        return logger
    }
}

/// A date option: `YYYY-MM-DD` (midnight UTC) or an RFC 3339 timestamp, as Unix ms.
func parseDate(_ text: String, option: String) throws -> Int64 {
    if text.count == 10, let ms = RFC3339.parse(text + "T00:00:00Z") { return ms }
    if let ms = RFC3339.parse(text) { return ms }
    throw ValidationError("\(option): expected YYYY-MM-DD or an RFC 3339 timestamp, got \(text)")
}

/// A month option `YYYY-MM` → [first ms, next month's first ms).
func parseMonth(_ text: String) throws -> (start: Int64, end: Int64) {
    guard let start = UTCMonth.parse(text) else { throw ValidationError("--month: expected YYYY-MM, got \(text)") }
    return (start, UTCMonth.next(after: start))
}
