/// The schema migrations carried by the binary (from `Schema/`, embedded at build time).
public enum Migrations {
    public static var all: [(name: String, sql: String)] { EmbeddedSQL.schema }
}
