import Hummingbird
import TollgateModel

/// Typed access to query parameters, each failure a 400 that names the parameter.
struct QueryParameters {
    let values: [String: String]

    init(_ request: Request) {
        var values: [String: String] = [:]
        for (key, value) in request.uri.queryParameters {
            values[String(key)] = String(value)
        }
        self.values = values
    }

    func string(_ name: String) -> String? {
        values[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    func int(_ name: String, in range: ClosedRange<Int>) throws -> Int? {
        guard let text = string(name) else { return nil }
        guard let value = Int(text), range.contains(value) else {
            throw APIError.badParameter(name, "expected an integer from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    func bool(_ name: String) throws -> Bool? {
        guard let text = string(name) else { return nil }
        switch text {
        case "true", "1": return true
        case "false", "0": return false
        default: throw APIError.badParameter(name, "expected true or false")
        }
    }

    func timestamp(_ name: String) throws -> Int64? {
        guard let text = string(name) else { return nil }
        guard let ms = RFC3339.parse(text) else {
            throw APIError.badParameter(name, "expected an RFC 3339 timestamp such as 2026-11-25T13:00:00Z")
        }
        return ms
    }

    func oneOf(_ name: String, _ allowed: [String]) throws -> String? {
        guard let text = string(name) else { return nil }
        guard allowed.contains(text) else {
            throw APIError.badParameter(name, "expected one of \(allowed.joined(separator: ", "))")
        }
        return text
    }
}
