import Foundation

/// The schema migrations carried by the binary (from `Schema/`, embedded at build time).
public enum Migrations {
    public static var all: [(name: String, sql: String)] { EmbeddedSQL.schema }
}

/// The named queries carried by the binary (from `Queries/`, embedded at build time), by file name without
/// extension.
enum NamedQueries {
    /// The SQL of query `name`, its includes in place. A missing name is a programming error (the file was renamed
    /// or not added).
    static func sql(_ name: String) -> String {
        guard let sql = expanded[name] else { preconditionFailure("no query Queries/\(name).sql") }
        return sql
    }

    /// Every query with each line `-- include part` replaced by the lines of query `part` that are not comments
    /// (a part shared by several statements, such as the columns of a log row, `log_row_columns`). Made once.
    private static let expanded: [String: String] = EmbeddedSQL.queries.mapValues { expand($0) }

    /// `sql` with its includes in place (parts may not include others).
    static func expand(_ sql: String) -> String {
        guard sql.contains(includeMarker) else { return sql }
        var lines: [Substring] = []
        for line in sql.split(separator: "\n", omittingEmptySubsequences: false) {
            guard line.hasPrefix(includeMarker) else {
                lines.append(line)
                continue
            }
            let name = String(line.dropFirst(includeMarker.count)).trimmingCharacters(in: .whitespaces)
            guard let part = EmbeddedSQL.queries[name] else { preconditionFailure("no query Queries/\(name).sql") }
            lines += part.split(separator: "\n").filter { !$0.hasPrefix("--") && !$0.allSatisfy(\.isWhitespace) }
        }
        return lines.joined(separator: "\n")
    }

    private static let includeMarker = "-- include "

    /// The SQL of template query `name` for the conditions that hold: a line ending in `-- when a, !b` is kept only
    /// when `a` is in `conditions` and `b` is not, without its `-- when` part; comment lines are dropped and every
    /// other line is kept as it is.
    static func sql(_ name: String, when conditions: Set<String>) -> String {
        var lines: [Substring] = []
        for line in sql(name).split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("--") { continue }
            guard let marker = line.range(of: " -- when ") else {
                lines.append(line)
                continue
            }
            let holds = line[marker.upperBound...].split(separator: ",").allSatisfy { term in
                let term = term.trimmingCharacters(in: .whitespaces)
                return term.hasPrefix("!") ? !conditions.contains(String(term.dropFirst())) : conditions.contains(term)
            }
            if holds { lines.append(line[..<marker.lowerBound]) }
        }
        return lines.joined(separator: "\n")
    }
}
