import Foundation
import Logging
import Synchronization
import TollgateModel

/// A swift-log handler writing one line per message as `logfmt` (`ts=… level=info msg="…" key=value`) or as a JSON
/// object (`{"ts":…,"level":…,"msg":…,"key":"value"}`), for log shippers. `tollgate serve --log-format` picks it;
/// the default `text` keeps swift-log's own stream handler.
///
/// Every line carries `ts` (RFC 3339, UTC, milliseconds), `level`, `label` and `msg`, then the metadata (the
/// handler's, then the message's) in key order. A line about a request carries its `log_id`.
public struct StructuredLogHandler: LogHandler {
    public enum Format: String, Sendable, CaseIterable {
        case logfmt, json
    }

    public var logLevel: Logger.Level = .info
    public var metadata: Logger.Metadata = [:]
    let label: String
    let format: Format
    let write: @Sendable (String) -> Void
    /// The clock of each line's `ts`, Unix milliseconds.
    let now: @Sendable () -> Int64

    /// `write` receives each line with its newline; by default standard error, one line at a time.
    public init(
        label: String, format: Format,
        write: @escaping @Sendable (String) -> Void = StructuredLogHandler.stderr,
        now: @escaping @Sendable () -> Int64 = TollgateClock.system.wallMilliseconds
    ) {
        self.label = label
        self.format = format
        self.now = now
        self.write = write
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        let time = RFC3339.format(milliseconds: now())
        var fields: [(String, String)] = [
            ("ts", time), ("level", event.level.rawValue), ("label", label), ("msg", "\(event.message)"),
        ]
        for key in merged.keys.sorted() { fields.append((key, Self.text(merged[key]!))) }
        write(Self.line(fields, format: format))
    }

    /// One line, newline included.
    static func line(_ fields: [(String, String)], format: Format) -> String {
        switch format {
        case .logfmt:
            return fields.map { "\(Self.logfmtKey($0.0))=\(Self.logfmtValue($0.1))" }.joined(separator: " ") + "\n"
        case .json:
            return "{"
                + fields.map { "\(JSONText.quoted($0.0)):\(JSONText.quoted($0.1))" }
                .joined(separator: ",") + "}\n"
        }
    }

    static func text(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array, .dictionary: value.description
        }
    }

    /// A key with no space, `=` or quote in it.
    static func logfmtKey(_ key: String) -> String {
        String(key.map { $0 == " " || $0 == "=" || $0 == "\"" ? "_" : $0 })
    }

    /// A value as is when it needs no quotes, else quoted with `\"`, `\\` and `\n` escaped.
    static func logfmtValue(_ value: String) -> String {
        let plain =
            !value.isEmpty && !value.contains { $0 == " " || $0 == "=" || $0 == "\"" || $0 == "\\" || $0.isNewline }
        guard !plain else { return value }
        var out = "\""
        for character in value {
            switch character {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default: out.append(character)
            }
        }
        return out + "\""
    }

    private static let lock = Mutex(())

    /// Writes a line to standard error, whole (lines from several threads never interleave).
    public static let stderr: @Sendable (String) -> Void = { line in
        lock.withLock { _ in FileHandle.standardError.write(Data(line.utf8)) }
    }
}
