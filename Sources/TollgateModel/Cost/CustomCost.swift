/// A price the client set for one request with the `cf-aig-custom-cost` header, overriding the price table.
///
/// Amounts are picodollars (10⁻¹² USD), parsed exactly from the header's decimal numbers.
public enum CustomCost: Sendable, Equatable, Hashable {
    /// `{"per_token_in": 0.000001, "per_token_out": 0.000002}`: USD per input and per output token.
    case perToken(input: Int64, output: Int64)
    /// `{"total_cost": 0.0125}`: the request's whole cost in USD.
    case total(Int64)
}

/// The `cf-aig-custom-cost` request header.
///
/// A JSON object with either `total_cost`, or `per_token_in` and/or `per_token_out` (a missing one is 0), each a
/// non-negative number in USD with at most 12 decimals (picodollar precision). Anything else is refused with a
/// message naming the problem, for the proxy to answer 400 with.
public enum CustomCostHeader {
    public static let name: StaticString = "cf-aig-custom-cost"

    public static func parse(_ value: String) throws(ModelError) -> CustomCost {
        var utf8 = Array(value.utf8)
        return try utf8.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
            try parse(UnsafeBufferPointer(buffer))
        }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ModelError) -> CustomCost {
        var reader = JSONReader(bytes)
        guard let kind = reader.peekKind() else { throw invalid("\(name) is not valid JSON") }
        guard kind == .object else {
            let isJSON = (try? reader.skipValue()) != nil && reader.isAtEnd()
            throw invalid(isJSON ? "\(name) must be a JSON object" : "\(name) is not valid JSON")
        }
        var amounts: [String: Int64] = [:]
        var problem: ModelError?
        do {
            try reader.readObject { r, k throws(JSONReader.Failure) in
                let key = try k.string()
                guard problem == nil else { return try r.skipValue() }
                guard ["per_token_in", "per_token_out", "total_cost"].contains(key) else {
                    problem = invalid("\(name) has an unknown key; use per_token_in/per_token_out or total_cost")
                    return try r.skipValue()
                }
                guard r.peekKind() == .number else {
                    problem = invalid("\(name): \(key) must be a number")
                    return try r.skipValue()
                }
                let text = try r.readNumberText()
                guard let scaled = ExactDecimal.scaled(text, scale: 12), scaled >= 0, scaled <= Int64.max else {
                    problem = invalid(
                        "\(name): \(key) must be a non-negative USD amount with at most 12 decimals")
                    return
                }
                amounts[key] = Int64(scaled)
            }
        } catch {
            throw invalid("\(name) is not valid JSON")
        }
        guard reader.isAtEnd() else { throw invalid("\(name) is not valid JSON") }
        if let problem { throw problem }
        if let total = amounts["total_cost"] {
            guard amounts.count == 1 else {
                throw invalid("\(name): total_cost cannot be combined with per_token_in/per_token_out")
            }
            return .total(total)
        }
        guard !amounts.isEmpty else {
            throw invalid("\(name) needs total_cost, or per_token_in and per_token_out")
        }
        return .perToken(input: amounts["per_token_in"] ?? 0, output: amounts["per_token_out"] ?? 0)
    }

    private static func invalid(_ message: String) -> ModelError {
        ModelError(code: .invalidCustomCost, message: message)
    }
}
