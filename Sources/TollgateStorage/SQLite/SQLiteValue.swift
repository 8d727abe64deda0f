/// A value bound to a statement parameter or read from a column.
enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
    case null
}

extension SQLiteValue {
    /// An optional integer: `.null` for nil.
    static func integer(_ value: Int64?) -> SQLiteValue { value.map { .integer($0) } ?? .null }
    /// An optional string: `.null` for nil.
    static func text(_ value: String?) -> SQLiteValue { value.map { .text($0) } ?? .null }
    /// A boolean as INTEGER 0/1.
    static func bool(_ value: Bool) -> SQLiteValue { .integer(value ? 1 : 0) }
}
