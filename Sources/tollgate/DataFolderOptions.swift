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
    let parts = text.split(separator: "-")
    guard parts.count == 2, parts[0].count == 4, parts[1].count == 2, let year = Int64(parts[0]),
        let month = Int64(parts[1]), (1...12).contains(month)
    else { throw ValidationError("--month: expected YYYY-MM, got \(text)") }
    let start = RFC3339.days(fromCivil: year, month, 1) * 86_400_000
    let end = RFC3339.days(fromCivil: month == 12 ? year + 1 : year, month == 12 ? 1 : month + 1, 1) * 86_400_000
    return (start, end)
}
