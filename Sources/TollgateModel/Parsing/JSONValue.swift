/// A parsed JSON document, as much of it as the mock provider and the REST API need to read a request.
///
/// Numbers keep their `Double` value only; object members keep the last value of a duplicated key.
public enum JSONValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var intValue: Int? {
        if case .number(let value) = self, value.isFinite, value.rounded() == value, abs(value) < 1e15 {
            return Int(value)
        }
        return nil
    }
}
