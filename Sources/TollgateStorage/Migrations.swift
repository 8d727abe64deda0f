/// The schema migrations carried by the binary (from `Schema/`, embedded at build time).
public enum Migrations {
    public static var all: [(name: String, sql: String)] { EmbeddedSQL.schema }
}

/// The named queries carried by the binary (from `Queries/`, embedded at build time), by file name without
/// extension.
public enum NamedQueries {
    /// The SQL of query `name`. A missing name is a programming error (the file was renamed or not added).
    public static func sql(_ name: String) -> String {
        guard let sql = EmbeddedSQL.queries[name] else { preconditionFailure("no query Queries/\(name).sql") }
        return sql
    }
}
