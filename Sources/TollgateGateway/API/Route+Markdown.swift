/// The API's reference in Markdown, written from the route declarations: what the README shows between its
/// `api-routes` markers (`tollgate routes` prints it; a test checks the README holds exactly this).
extension APIRouter {
    /// Every route of `Route.all`, each with who may call it, what it does, and each query parameter and body field.
    public static func markdownReference() -> String {
        var out = ""
        // A list of parameters or fields already written out in full, by its text: a later route taking the same
        // list refers to the first.
        var written: [String: String] = [:]
        func describe(_ part: String, _ fields: [Route.Field], of route: Route) {
            guard !fields.isEmpty else { return }
            let lines = fields.map { "  - \(part) `\($0.displayName)`: \($0.markdownDescription)\n" }.joined()
            if let first = written[lines] {
                out += "  - \(part): as `\(first)`\n"
            } else {
                written[lines] = route.name
                out += lines
            }
        }
        for route in Route.all {
            out += "- **`\(route.name)`** (\(route.audience)). \(route.summary)\n"
            describe("query", route.query, of: route)
            describe("body", route.body ?? [], of: route)
        }
        return out
    }
}

extension Route {
    /// Who may call the route.
    var audience: String {
        if name == Route.metrics.name { return "admin token, or none with `serve --metrics-public`" }
        guard path.hasPrefix(Route.apiPrefix + "/") || path.hasPrefix(Route.cloudflarePrefix + "/"),
            name != Route.openAPI.name
        else { return "no token" }
        switch APIAccess.required(method: method, route: path) {
        case .admin: return "admin token"
        case .account: return "admin or account token"
        }
    }
}

extension Route.Field {
    var markdownDescription: String {
        var terms = [kind.markdownName]
        if required { terms.append("required") }
        if nullable { terms.append("or null") }
        return terms.joined(separator: ", ") + "; " + summary
    }
}

extension Route.Kind {
    var markdownName: String {
        switch self {
        case .text: "text"
        case .identifier: "id"
        case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
        case .boolean: "`true` or `false`"
        case .timestamp: "RFC 3339 timestamp"
        case .date: "`YYYY-MM-DD` or RFC 3339"
        case .month: "`YYYY-MM`"
        case .choice(let names): "one of " + names.map { "`\($0)`" }.joined(separator: ", ")
        case .subset(let names): "comma-separated subset of " + names.map { "`\($0)`" }.joined(separator: ", ")
        case .timeZone: "IANA time zone"
        case .price: "USD per 1M tokens"
        case .requestFee: "USD per 1,000 requests"
        case .object: "JSON object"
        case .filterParts: "`key`, `operator` and `value` of each filter"
        }
    }
}

extension APIRouter {
    /// The README's gateway settings table, from `Route.gatewaySettings`: the fields `POST …/gateways` and `PATCH`
    /// take, a configuration file's gateways too.
    public static func gatewaySettingsTable() -> String {
        var out = "| setting | value | what it does |\n| --- | --- | --- |\n"
        for field in Route.gatewaySettings {
            let value = field.kind.markdownName + (field.nullable ? ", or null" : "")
            out += "| `\(field.name)` | \(value) | \(field.summary.replacingOccurrences(of: "|", with: "\\|")) |\n"
        }
        return out
    }
}
