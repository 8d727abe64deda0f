import Foundation
import Hummingbird
import TollgateAnalytics
import TollgateModel

/// A request's query parameters and JSON body, checked against its route's declaration before the handler runs.
///
/// Every failure is a 400 `invalid_parameter` (or `invalid_body` for a body that is not a JSON object) whose message
/// starts with the name at fault: a parameter or field the route does not declare (the message lists the ones it
/// does), a parameter given twice or with an empty value, a field given twice, a value of the wrong type or out of
/// range, null where null is not allowed, a required one missing. So nothing a handler reads was guessed, and
/// nothing a client sent was ignored.
struct RouteInput: Sendable {
    /// The checked query parameters.
    let query: Values
    /// The checked body fields (none for a route that takes no body).
    let body: Values

    /// A checked value.
    enum Value: Sendable, Equatable {
        case null
        /// `text`, `identifier`, `choice` and `timeZone` values.
        case text(String)
        case integer(Int64)
        case boolean(Bool)
        /// `timestamp`, `date` and `month` values, in Unix milliseconds.
        case instant(Int64)
        /// A `subset` value, in the order given.
        case names([String])
        case price(Money)
        /// An `object` value, as parsed.
        case json(JSONValue)
        /// A `filterParts` family: each parameter's name after the prefix and its value, in the order given.
        case parts([Part])
    }

    /// One parameter of a `filterParts` family: `key` for `filters.key`, `[0][value]` for `filters[0][value]`.
    struct Part: Sendable, Equatable {
        var name: String
        var value: String
    }

    /// The checked values of one part of a request, read by the declared names.
    struct Values: Sendable {
        let fields: [Route.Field]
        let values: [String: Value]

        /// Whether the request gave the field at all (a PATCH changes only what it names).
        func contains(_ name: String) -> Bool {
            declared(name)
            return values[name] != nil
        }

        func text(_ name: String) -> String? {
            guard case .text(let value) = value(name) else { return nil }
            return value
        }

        func integer(_ name: String) -> Int64? {
            guard case .integer(let value) = value(name) else { return nil }
            return value
        }

        func bool(_ name: String) -> Bool? {
            guard case .boolean(let value) = value(name) else { return nil }
            return value
        }

        func instant(_ name: String) -> Int64? {
            guard case .instant(let value) = value(name) else { return nil }
            return value
        }

        func names(_ name: String) -> [String]? {
            guard case .names(let value) = value(name) else { return nil }
            return value
        }

        func price(_ name: String) -> Money? {
            guard case .price(let value) = value(name) else { return nil }
            return value
        }

        /// The text values of a prefix parameter's members, by key (the name after the prefix).
        /// The parameters of a `filterParts` family, in the order given (empty when none was given).
        func parts(_ prefix: String) -> [Part] {
            guard case .parts(let parts) = value(prefix) else { return [] }
            return parts
        }

        func prefixedTexts(_ prefix: String) -> [String: String] {
            assert(fields.contains { $0.prefix && $0.name == prefix }, "\(prefix) is not a declared prefix")
            var texts: [String: String] = [:]
            for (name, value) in values
            where name.hasPrefix(prefix) && !fields.contains(where: { !$0.prefix && $0.name == name }) {
                if case .text(let text) = value { texts[String(name.dropFirst(prefix.count))] = text }
            }
            return texts
        }

        /// Nullable settings: nil when absent (unchanged), `.some(nil)` when null (back to the default).
        func integerSetting(_ name: String) -> Int64?? {
            setting(name) { if case .integer(let v) = $0 { v } else { nil } }
        }

        func boolSetting(_ name: String) -> Bool?? {
            setting(name) { if case .boolean(let v) = $0 { v } else { nil } }
        }

        func textSetting(_ name: String) -> String?? {
            setting(name) { if case .text(let v) = $0 { v } else { nil } }
        }

        func jsonSetting(_ name: String) -> JSONValue?? {
            setting(name) { if case .json(let v) = $0 { v } else { nil } }
        }

        private func setting<T>(_ name: String, _ read: (Value) -> T?) -> T?? {
            guard let value = value(name) else { return nil }
            return value == .null ? .some(nil) : read(value).map { .some($0) }
        }

        private func value(_ name: String) -> Value? {
            declared(name)
            return values[name]
        }

        /// Reading a name the route does not declare is a programming error: the declaration is what the
        /// documentation shows and what the check lets through.
        private func declared(_ name: String) {
            assert(fields.contains { $0.name == name }, "\(name) is not declared by this route")
        }
    }

    /// Largest accepted JSON body.
    static let maximumBodyBytes = 1 << 20

    /// Checks the query string and, for a route that takes one, the body.
    init(_ route: Route, _ request: Request) async throws {
        // Names arrive as sent (percent-encoded, e.g. `filters%5B0%5D%5Bkey%5D`); values are already decoded.
        let parameters = request.uri.queryParameters.map {
            (name: String($0.key).removingPercentEncoding ?? String($0.key), value: String($0.value))
        }
        self.query = try Self.checkQuery(parameters, route: route)
        let buffer = try await request.body.collect(upTo: Self.maximumBodyBytes)
        self.body = try Self.checkBody(Array(buffer.readableBytesView), route: route)
    }

    /// Checks the query parameters, in the order given, as (name, percent-decoded value) pairs.
    static func checkQuery(_ parameters: [(name: String, value: String)], route: Route) throws -> Values {
        var values: [String: Value] = [:]
        for (name, raw) in parameters {
            if name.isEmpty && raw.isEmpty { continue }  // `?a=1&&b=2`: nothing was sent
            // An exact name first: a prefix never shadows a declared parameter.
            guard
                let field = route.query.first(where: { !$0.prefix && $0.name == name })
                    ?? route.query.first(where: { $0.prefix && $0.matches(name) })
            else {
                throw APIError.badParameter(
                    name, "unknown parameter; expected \(Route.Field.names(route.query))")
            }
            if field.prefix && name.count == field.name.count {
                throw APIError.badParameter(name, "no key after the prefix; expected \(field.displayName)")
            }
            if case .filterParts = field.kind {
                // Repeated by design (`filters.key=…&filters.key=…`); empty values too (a null filter value).
                guard case .parts(let earlier) = values[field.name] ?? .parts([]) else { continue }
                let part = Part(name: String(name.dropFirst(field.name.count)), value: raw)
                values[field.name] = .parts(earlier + [part])
                continue
            }
            guard values[name] == nil else {
                throw APIError.badParameter(name, "given more than once; expected it once")
            }
            guard !raw.isEmpty else { throw APIError.badParameter(name, "empty value; \(field.kind.expectation)") }
            guard let value = field.kind.value(text: raw) else {
                throw APIError.badParameter(name, field.kind.problem(with: raw))
            }
            values[name] = value
        }
        try requirePresent(route.query, values)
        return Values(fields: route.query, values: values)
    }

    static func checkBody(_ bytes: [UInt8], route: Route) throws -> Values {
        guard let fields = route.body else {
            // A route without a body accepts none, or an empty object; anything else was meant for another route.
            guard !bytes.isEmpty else { return Values(fields: [], values: [:]) }
            guard case .object(let object) = try? JSONParser.parse(bytes) else {
                throw APIError(.badRequest, code: "invalid_body", message: "this route takes no body")
            }
            if let name = object.keys.sorted().first {
                throw APIError.badParameter(name, "unknown field; this route takes no body fields")
            }
            return Values(fields: [], values: [:])
        }
        guard !bytes.isEmpty else {
            throw APIError(.badRequest, code: "invalid_body", message: "expected a JSON object body")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONParser.parse(bytes, options: [.rejectDuplicateKeys, .rejectInexactNumbers])
        } catch {
            if let name = error.duplicateMember {
                throw APIError.badParameter(name, "given more than once; expected it once")
            }
            throw APIError(
                .badRequest, code: "invalid_body",
                message: "body is not valid JSON: \(error.reason) at byte \(error.offset)")
        }
        guard case .object(let object) = parsed else {
            throw APIError(.badRequest, code: "invalid_body", message: "body is not a JSON object")
        }
        return try checkObject(object, fields: fields)
    }

    /// Checks a JSON object's members against `fields`: the body check, also used for what a configuration file
    /// declares.
    static func checkObject(_ object: [String: JSONValue], fields: [Route.Field]) throws -> Values {
        var values: [String: Value] = [:]
        for name in object.keys.sorted() {
            guard let field = fields.first(where: { $0.name == name }) else {
                throw APIError.badParameter(name, "unknown field; expected \(Route.Field.names(fields))")
            }
            let raw = object[name]!
            if raw == .null {
                guard field.nullable else { throw APIError.badParameter(name, "\(field.kind.expectation), not null") }
                values[name] = .null
                continue
            }
            guard let value = field.kind.value(json: raw) else {
                let null = field.nullable ? ", or null for the default" : ""
                throw APIError.badParameter(name, field.kind.expectation + null)
            }
            values[name] = value
        }
        try requirePresent(fields, values)
        return Values(fields: fields, values: values)
    }

    private static func requirePresent(_ fields: [Route.Field], _ values: [String: Value]) throws {
        for field in fields where field.required && !field.prefix && values[field.name] == nil {
            throw APIError.badParameter(field.name, "required; \(field.kind.expectation)")
        }
    }
}

extension Route.Kind {
    /// The value of a query string parameter, or nil when it is not of this kind.
    func value(text: String) -> RouteInput.Value? {
        switch self {
        case .integer(let range):
            guard let value = Int64(text), range.contains(value) else { return nil }
            return .integer(value)
        case .boolean:
            switch text {
            case "true", "1": return .boolean(true)
            case "false", "0": return .boolean(false)
            default: return nil
            }
        case .price, .requestFee:
            return price(text)
        case .subset(let allowed):
            let names = text.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            guard !names.isEmpty, names.allSatisfy(allowed.contains), Set(names).count == names.count else {
                return nil
            }
            return .names(names)
        default:
            return textual(text)
        }
    }

    /// The value of a JSON body field (not null), or nil when it is not of this kind.
    func value(json: JSONValue) -> RouteInput.Value? {
        switch (self, json) {
        case (.integer(let range), _):
            guard let value = json.intValue.map(Int64.init), range.contains(value) else { return nil }
            return .integer(value)
        case (.boolean, .bool(let value)):
            return .boolean(value)
        case (.price, .number(let value)), (.requestFee, .number(let value)):
            return value.isFinite ? price("\(value)") : nil
        case (.price, .string(let text)), (.requestFee, .string(let text)):
            return price(text)
        case (.object, .object):
            return .json(json)
        case (.subset, .array(let items)):
            let names = items.compactMap(\.stringValue)
            guard names.count == items.count else { return nil }
            return value(text: names.joined(separator: ","))
        case (.text, .string(let text)), (.identifier, .string(let text)), (.timestamp, .string(let text)),
            (.date, .string(let text)), (.month, .string(let text)), (.choice, .string(let text)),
            (.timeZone, .string(let text)):
            return textual(text)
        default:
            return nil
        }
    }

    /// Why a query value is refused: what it should be, and for a subset which names are not in it.
    func problem(with text: String) -> String {
        guard case .subset(let allowed) = self else { return expectation }
        let names = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        let unknown = names.filter { !allowed.contains($0) }.map { "'\($0)'" }
        let repeated = Set(names).count < names.count ? " (each name at most once)" : ""
        guard !unknown.isEmpty else { return expectation + repeated }
        return "unknown name(s) \(unknown.joined(separator: ", ")); \(expectation)\(repeated)"
    }

    /// The kinds whose value is a string in both a query and a body.
    private func textual(_ text: String) -> RouteInput.Value? {
        switch self {
        case .text: return text.isEmpty ? nil : .text(text)
        case .identifier: return Identifier.isValid(text) ? .text(text) : nil
        case .timestamp: return RFC3339.parse(text).map { .instant($0) }
        case .date: return PriceDate.parse(text).map { .instant($0) }
        case .month: return UTCMonth.parse(text).map { .instant($0) }
        case .choice(let names): return names.contains(text) ? .text(text) : nil
        case .timeZone: return TimeZone(identifier: text) != nil ? .text(text) : nil
        case .integer, .boolean, .subset, .price, .requestFee, .object, .filterParts: return nil
        }
    }

    /// A price: per 1M tokens (picodollars per token), or a request fee per 1,000 requests (picodollars per
    /// request).
    private func price(_ text: String) -> RouteInput.Value? {
        let money: Money? =
            if case .requestFee = self {
                PriceRow.perRequest(usdPerThousand: text)
            } else {
                ExactDecimal.scaled(text, scale: 6).map { Money(picodollars: $0) }
            }
        guard let money, money.picodollars >= 0 else { return nil }
        return .price(money)
    }
}

extension RouterMethods {
    /// Registers a declared route: each request is checked against the declaration, then handed to `handler` with
    /// its checked input. `prefix` is the path of the group the route is registered on (`/api/v1`).
    @discardableResult
    func on(
        _ route: Route, prefix: String,
        use handler: @escaping @Sendable (Request, Context, RouteInput) async throws -> Response
    ) -> Self {
        precondition(route.path.hasPrefix(prefix + "/"), "\(route.name) is not under \(prefix)")
        let path = String(route.path.dropFirst(prefix.count + 1))
        return on(RouterPath(path), method: route.method) { request, context in
            let input = try await RouteInput(route, request)
            return try await handler(request, context, input)
        }
    }
}
