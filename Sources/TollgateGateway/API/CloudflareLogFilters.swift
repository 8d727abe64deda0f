import TollgateModel
import TollgateStorage

/// Cloudflare's `filters` query array for gateway logs (`GET` and `DELETE …/gateways/{gateway}/logs`): a list of
/// `{key, operator, value}` objects. Its Python SDK sends each filter's parts as repeated `filters.key`,
/// `filters.operator` and `filters.value` parameters in order (one `filters.value` per value); the bracket form
/// `filters[0][key]=…&filters[0][value][0]=…` is read too.
///
/// Tollgate applies the filters its log index can answer exactly and refuses every other one by name, so a filter
/// is never dropped: on a delete, an ignored filter would widen what is deleted.
struct CloudflareLogFilters {
    /// One filter as sent.
    struct Clause: Equatable {
        var key: String
        var op: String
        var values: [String]
    }

    /// Where a set of filters is used: deleting takes fewer keys than listing.
    enum Use {
        case listing, deleting

        /// The keys and operators this use applies, as `key operator`.
        var supported: [String] {
            switch self {
            case .listing:
                [
                    "provider eq", "model eq", "success eq", "cached eq", "event_id eq", "feedback eq",
                    "created_at gt", "created_at lt",
                ]
            case .deleting: ["provider eq", "model eq", "success eq", "created_at gt", "created_at lt"]
            }
        }
    }

    /// Reads the parts of `filters` (each parameter's name after `filters`, and its value) into filters.
    static func clauses(_ parts: [RouteInput.Part]) throws -> [Clause] {
        var clauses: [Clause] = []
        var indexed: [(index: String, clause: Clause)] = []
        for part in parts {
            let name = "filters" + part.name
            if part.name.hasPrefix(".") {
                switch part.name {
                case ".key":
                    clauses.append(Clause(key: part.value, op: "", values: []))
                case ".operator", ".value":
                    guard !clauses.isEmpty else {
                        throw APIError.badParameter(
                            name, "comes before any filters.key; each filter starts with its key")
                    }
                    if part.name == ".operator" {
                        guard clauses[clauses.count - 1].op.isEmpty else {
                            throw APIError.badParameter(name, "given twice for one filter")
                        }
                        clauses[clauses.count - 1].op = part.value
                    } else {
                        clauses[clauses.count - 1].values.append(part.value)
                    }
                default:
                    throw APIError.badParameter(
                        name, "unknown part; expected filters.key, filters.operator, filters.value")
                }
            } else if let (index, field) = bracketed(part.name) {
                if !indexed.contains(where: { $0.index == index }) {
                    indexed.append((index, Clause(key: "", op: "", values: [])))
                }
                let at = indexed.firstIndex { $0.index == index }!
                switch field {
                case "key", "operator":
                    let current = field == "key" ? indexed[at].clause.key : indexed[at].clause.op
                    guard current.isEmpty else { throw APIError.badParameter(name, "given twice for one filter") }
                    if field == "key" {
                        indexed[at].clause.key = part.value
                    } else {
                        indexed[at].clause.op = part.value
                    }
                case "value": indexed[at].clause.values.append(part.value)
                default:
                    throw APIError.badParameter(name, "unknown part; expected filters[i][key], [operator], [value]")
                }
            } else {
                throw APIError.badParameter(
                    name, "unknown parameter; expected filters.key, filters.operator, filters.value")
            }
        }
        let all = clauses + indexed.map(\.clause)
        for clause in all {
            guard !clause.key.isEmpty else { throw APIError.badParameter("filters", "a filter has no key") }
            guard !clause.op.isEmpty else {
                throw APIError.badParameter("filters", "the filter on \(clause.key) has no operator")
            }
            guard !clause.values.isEmpty else {
                throw APIError.badParameter("filters", "the filter on \(clause.key) has no value")
            }
        }
        return all
    }

    /// `[0][key]` → ("0", "key"); `[0][value][1]` and `[0][value][]` → ("0", "value").
    private static func bracketed(_ name: String) -> (String, String)? {
        var fields: [Substring] = []
        var rest = Substring(name)
        while rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            fields.append(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
        }
        guard rest.isEmpty, fields.count >= 2, !fields[0].isEmpty, fields[0].allSatisfy(\.isNumber) else { return nil }
        if fields.count == 3, fields[1] == "value", fields[2].allSatisfy(\.isNumber) {
            return (String(fields[0]), "value")
        }
        guard fields.count == 2 else { return nil }
        return (String(fields[0]), String(fields[1]))
    }

    /// Applies the filters to a query, refusing a key or operator this use does not apply, a filter with more than
    /// one value, and a filter that contradicts another (or a flat parameter already set to another value).
    static func apply(_ clauses: [Clause], to query: inout LogQuery, for use: Use) throws {
        for clause in clauses {
            let name = "\(clause.key) \(clause.op)"
            guard use.supported.contains(name) else {
                throw APIError.badParameter(
                    "filters",
                    "\(clause.key) with operator \(clause.op) is not supported "
                        + (use == .deleting ? "when deleting" : "when listing") + "; supported: "
                        + use.supported.joined(separator: ", "))
            }
            guard clause.values.count == 1, let value = clause.values.first else {
                throw APIError.badParameter("filters", "the filter on \(clause.key) takes exactly one value")
            }
            func invalid(_ expectation: String) -> APIError {
                APIError.badParameter("filters", "\(clause.key): \(expectation), not '\(value)'")
            }
            func set<T: Equatable>(_ slot: inout T?, _ new: T) throws {
                if let old = slot, old != new {
                    throw APIError.badParameter("filters", "\(clause.key) is given two different values")
                }
                slot = new
            }
            switch clause.key {
            case "provider": try set(&query.provider, value)
            case "model": try set(&query.model, value)
            case "event_id": try set(&query.eventID, value)
            case "success", "cached":
                guard let flag = ["true": true, "false": false][value] else { throw invalid("expected true or false") }
                if clause.key == "success" { try set(&query.success, flag) } else { try set(&query.cached, flag) }
            case "feedback":
                guard let feedback = Int(value), feedback == -1 || feedback == 1 else {
                    throw invalid("expected -1 or 1")
                }
                try set(&query.feedback, feedback)
            default:  // created_at gt / lt: strictly after / before the instant
                guard let instant = RFC3339.parse(value) else {
                    throw invalid("expected an RFC 3339 timestamp such as 2026-11-25T13:00:00Z")
                }
                if clause.op == "gt" {
                    query.from = max(query.from ?? Int64.min, instant + 1)
                } else {
                    query.to = min(query.to ?? Int64.max, instant)
                }
            }
        }
        if let from = query.from, let to = query.to, from >= to {
            throw APIError.badParameter(
                "filters", "created_at: the window is empty (the lower bound is not before the upper)")
        }
    }
}
