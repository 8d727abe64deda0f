import NIOCore
import Synchronization
import TollgateAnalytics
import TollgateModel

/// A gateway's spend limits, in the shape of Cloudflare AI Gateway's `spend_limits` setting: up to 20 rules, each a
/// budget in USD over a fixed or sliding window, scoped by model, provider and `cf-aig-metadata` keys.
///
/// A dimension in `filter` mode limits the rule to requests whose value is listed; in `partition` mode the rule keeps
/// one budget per value (per user, per team). Limits are exact decimals, held in picodollars.
public struct SpendLimits: Sendable, Hashable {
    public var enabled: Bool
    public var rules: [Rule]

    public static let maximumRules = 20
    /// The longest window accepted: 366 days.
    public static let maximumWindow = 366 * 86_400

    public init(enabled: Bool = true, rules: [Rule]) {
        self.enabled = enabled
        self.rules = rules
    }

    public struct Rule: Sendable, Hashable {
        public var id: String
        public var limit: Money
        /// Seconds.
        public var window: Int
        public var technique: BudgetWindow.Technique
        public var model: Scope?
        public var provider: Scope?
        /// By `cf-aig-metadata` key.
        public var metadata: [String: Scope]
        public var enabled: Bool

        public init(
            id: String, limit: Money, window: Int, technique: BudgetWindow.Technique = .fixed, model: Scope? = nil,
            provider: Scope? = nil, metadata: [String: Scope] = [:], enabled: Bool = true
        ) {
            self.id = id
            self.limit = limit
            self.window = window
            self.technique = technique
            self.model = model
            self.provider = provider
            self.metadata = metadata
            self.enabled = enabled
        }
    }

    /// How a rule treats one dimension of a request.
    public enum Scope: Sendable, Hashable {
        /// One budget per value.
        case partition
        /// Only requests whose value is one of these.
        case filter([String])
    }

    /// Whether an enabled rule is scoped by model: its requests are admitted once their body named the model.
    public var needsModel: Bool {
        enabled && rules.contains { $0.enabled && $0.model != nil }
    }

    /// What a request is matched on.
    public struct Request: Sendable, Hashable {
        public var provider: String
        /// nil before the model is known (a request being admitted whose body names it).
        public var model: String?
        /// `cf-aig-metadata` values as text.
        public var metadata: [String: String]

        public init(provider: String, model: String?, metadata: [String: String] = [:]) {
            self.provider = provider
            self.model = model
            self.metadata = metadata
        }
    }

    /// The budgets a request counts against: for each enabled rule it matches, the rule and the partition it falls
    /// in (the values of its partition dimensions, in a fixed order; empty without any).
    ///
    /// While the model is not known (`model` nil, at admission), a rule filtered by model is matched as if the
    /// request named one of its models, so a full budget refuses it: the check errs towards the limit. A rule
    /// partitioned by model is left out until the model is known.
    public func budgets(for request: Request) -> [(rule: Rule, partition: [String])] {
        guard enabled else { return [] }
        var matched: [(Rule, [String])] = []
        rules: for rule in rules where rule.enabled {
            var partition: [String] = []
            let dimensions: [(Scope?, String?, Bool)] =
                [(rule.provider, request.provider, true), (rule.model, request.model, request.model != nil)]
                + rule.metadata.keys.sorted().map { (rule.metadata[$0], request.metadata[$0], true) }
            for (scope, value, known) in dimensions {
                switch scope {
                case nil: continue
                case .partition:
                    guard known else { continue rules }
                    partition.append(value ?? "")
                case .filter(let values):
                    guard known else { continue }
                    guard let value, values.contains(value) else { continue rules }
                }
            }
            matched.append((rule, partition))
        }
        return matched
    }
}

/// Why a `spend_limits` setting was refused: the path of the value at fault (`spend_limits.rules[2].limit`) and
/// what it should be.
public struct SpendLimitsError: Error, Sendable, Equatable {
    public var path: String
    public var message: String
}

extension SpendLimits {
    /// Reads the setting as JSON: `{"enabled": true, "rules": [{"id"?, "limit", "limitType": "cost", "window",
    /// "technique", "model"?, "provider"?, "metadata"?, "enabled"?}]}`. Every member is checked; unknown ones are
    /// refused. `limit` must be a number read exactly (see `JSONParser.Options.rejectInexactNumbers`) or a decimal
    /// string.
    public init(json: JSONValue, path: String = "spend_limits") throws(SpendLimitsError) {
        let object = try Self.object(json, path, allowed: ["enabled", "rules"])
        self.enabled = try Self.bool(object["enabled"], path + ".enabled") ?? true
        guard case .array(let items)? = object["rules"] else {
            throw SpendLimitsError(path: path + ".rules", message: "expected an array of rules")
        }
        guard items.count <= Self.maximumRules else {
            throw SpendLimitsError(path: path + ".rules", message: "at most \(Self.maximumRules) rules")
        }
        var rules: [Rule] = []
        for (index, item) in items.enumerated() {
            let rule = try Rule(json: item, path: "\(path).rules[\(index)]", index: index)
            guard !rules.contains(where: { $0.id == rule.id }) else {
                throw SpendLimitsError(path: "\(path).rules[\(index)].id", message: "'\(rule.id)' is used twice")
            }
            rules.append(rule)
        }
        self.rules = rules
    }

    static func object(_ json: JSONValue, _ path: String, allowed: Set<String>) throws(SpendLimitsError)
        -> [String: JSONValue]
    {
        guard case .object(let object) = json else { throw SpendLimitsError(path: path, message: "expected an object") }
        if let unknown = object.keys.sorted().first(where: { !allowed.contains($0) }) {
            throw SpendLimitsError(
                path: "\(path).\(unknown)",
                message: "unknown field; expected \(allowed.sorted().joined(separator: ", "))")
        }
        return object
    }

    static func bool(_ json: JSONValue?, _ path: String) throws(SpendLimitsError) -> Bool? {
        switch json {
        case nil: return nil
        case .bool(let value)?: return value
        default: throw SpendLimitsError(path: path, message: "expected true or false")
        }
    }

    /// The setting as JSON, as `GET` shows it and the catalog keeps it.
    public var json: String {
        var writer = JSONWriter(capacity: 128)
        writer.spendLimits(self)
        return String(buffer: writer.buffer)
    }
}

extension JSONWriter {
    mutating func spendLimits(_ limits: SpendLimits) {
        beginObject()
        key("enabled"); bool(limits.enabled)
        key("rules")
        beginArray()
        for rule in limits.rules {
            beginObject()
            key("id"); string(rule.id)
            key("limit"); usd(picodollars: rule.limit.picodollars)
            key("limitType"); string("cost")
            key("window"); int(rule.window)
            key("technique"); string(rule.technique.rawValue)
            if let model = rule.model { key("model"); spendScope(model) }
            if let provider = rule.provider { key("provider"); spendScope(provider) }
            if !rule.metadata.isEmpty {
                key("metadata")
                beginObject()
                for name in rule.metadata.keys.sorted() { key(name); spendScope(rule.metadata[name]!) }
                endObject()
            }
            key("enabled"); bool(rule.enabled)
            endObject()
        }
        endArray()
        endObject()
    }

    private mutating func spendScope(_ scope: SpendLimits.Scope) {
        beginObject()
        switch scope {
        case .partition:
            key("mode"); string("partition")
        case .filter(let values):
            key("mode"); string("filter")
            key("values")
            beginArray()
            for value in values { string(value) }
            endArray()
        }
        endObject()
    }
}

extension SpendLimits.Rule {
    /// The names of the dimensions the rule keeps one budget per value of, in the order of a budget's partition
    /// values: `provider`, `model`, then `metadata.<key>` by key.
    public var partitionNames: [String] {
        var names: [String] = []
        if provider == .partition { names.append("provider") }
        if model == .partition { names.append("model") }
        for key in metadata.keys.sorted() where metadata[key] == .partition { names.append("metadata." + key) }
        return names
    }

    init(json: JSONValue, path: String, index: Int) throws(SpendLimitsError) {
        let object = try SpendLimits.object(
            json, path,
            allowed: ["id", "limit", "limitType", "window", "technique", "model", "provider", "metadata", "enabled"])
        switch object["id"] {
        case nil: self.id = "rule-\(index + 1)"
        case .string(let id)? where Identifier.isValid(id): self.id = id
        default: throw SpendLimitsError(path: path + ".id", message: "expected an id matching [a-z0-9][a-z0-9-]{0,63}")
        }
        let limitText: String
        switch object["limit"] {
        case .number(let value)?: limitText = "\(value)"
        case .string(let text)?: limitText = text
        default: throw SpendLimitsError(path: path + ".limit", message: "required: the budget in USD")
        }
        guard let picodollars = ExactDecimal.scaled(limitText, scale: 12), picodollars >= 0,
            picodollars <= Int128(Int64.max)
        else {
            throw SpendLimitsError(
                path: path + ".limit", message: "expected a non-negative amount in USD with at most 12 decimals")
        }
        self.limit = Money(picodollars: picodollars)
        switch object["limitType"] {
        case nil, .string("cost")?: break
        default: throw SpendLimitsError(path: path + ".limitType", message: "expected \"cost\"")
        }
        guard let window = object["window"]?.intValue, (1...SpendLimits.maximumWindow).contains(window) else {
            throw SpendLimitsError(
                path: path + ".window", message: "required: seconds, from 1 to \(SpendLimits.maximumWindow)")
        }
        self.window = window
        switch object["technique"] {
        case nil: self.technique = .fixed
        case .string(let name)?:
            guard let technique = BudgetWindow.Technique(rawValue: name) else { fallthrough }
            self.technique = technique
        default: throw SpendLimitsError(path: path + ".technique", message: "expected fixed or sliding")
        }
        self.model = try object["model"].map { v throws(SpendLimitsError) in try Self.scope(v, path + ".model") }
        self.provider = try object["provider"].map { v throws(SpendLimitsError) in
            try Self.scope(v, path + ".provider")
        }
        var metadata: [String: SpendLimits.Scope] = [:]
        if let raw = object["metadata"] {
            guard case .object(let members) = raw else {
                throw SpendLimitsError(path: path + ".metadata", message: "expected an object of metadata keys")
            }
            for key in members.keys.sorted() {
                guard !key.isEmpty else {
                    throw SpendLimitsError(path: path + ".metadata", message: "metadata keys must not be empty")
                }
                metadata[key] = try Self.scope(members[key]!, "\(path).metadata.\(key)")
            }
        }
        self.metadata = metadata
        self.enabled = try SpendLimits.bool(object["enabled"], path + ".enabled") ?? true
    }

    static func scope(_ json: JSONValue, _ path: String) throws(SpendLimitsError) -> SpendLimits.Scope {
        let object = try SpendLimits.object(json, path, allowed: ["mode", "values"])
        switch object["mode"] {
        case .string("partition")?:
            guard object["values"] == nil else {
                throw SpendLimitsError(path: path + ".values", message: "only with mode filter")
            }
            return .partition
        case .string("filter")?:
            guard case .array(let items)? = object["values"], !items.isEmpty else {
                throw SpendLimitsError(path: path + ".values", message: "required with mode filter: a non-empty array")
            }
            var values: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let value) = item, !value.isEmpty else {
                    throw SpendLimitsError(path: "\(path).values[\(i)]", message: "expected a non-empty string")
                }
                values.append(value)
            }
            return .filter(values)
        default:
            throw SpendLimitsError(path: path + ".mode", message: "expected partition or filter")
        }
    }
}

/// What every gateway's spend limits have counted, shared by the proxy's event loops.
///
/// The proxy asks `admit` before it calls the provider, and `record`s a response's cost as soon as it is known (on
/// the event loop, not after the store's commit). Spend can therefore pass a limit by at most the cost of the
/// requests already in flight when it was reached: each was admitted while there was room.
public final class SpendLedger: Sendable {
    /// One budget: a rule of a gateway, and the partition a request fell in.
    public struct Budget: Hashable, Sendable {
        public var account: String
        public var gateway: String
        public var rule: String
        public var partition: [String]
    }

    /// A request refused by a rule whose window has no room left.
    public struct Refusal: Sendable, Equatable {
        public var rule: String
        public var retryAfterMilliseconds: Int64
    }

    private let windows = Mutex<[Budget: BudgetWindow]>([:])
    private let now: @Sendable () -> Int64

    /// - Parameter now: the clock, Unix milliseconds.
    public init(now: @escaping @Sendable () -> Int64) {
        self.now = now
    }

    /// Whether every budget the request counts against has room; the first that has none refuses it.
    public func admit(_ limits: SpendLimits, account: String, gateway: String, _ request: SpendLimits.Request)
        -> Refusal?
    {
        let instant = now()
        let budgets = limits.budgets(for: request)
        guard !budgets.isEmpty else { return nil }
        return windows.withLock { windows in
            for (rule, partition) in budgets {
                let key = Budget(account: account, gateway: gateway, rule: rule.id, partition: partition)
                var window = Self.window(windows[key], rule)
                let decision = window.check(limit: Int64(clamping: rule.limit.picodollars), at: instant)
                windows[key] = window
                if case .full(let retryAfter) = decision {
                    return Refusal(rule: rule.id, retryAfterMilliseconds: retryAfter)
                }
            }
            return nil
        }
    }

    /// Counts a response's cost against every budget the request falls in.
    public func record(
        _ cost: Money, _ limits: SpendLimits, account: String, gateway: String, _ request: SpendLimits.Request,
        at instant: Int64? = nil
    ) {
        guard cost.picodollars > 0 else { return }
        let amount = Int64(clamping: cost.picodollars)
        let when = instant ?? now()
        let budgets = limits.budgets(for: request)
        guard !budgets.isEmpty else { return }
        windows.withLock { windows in
            for (rule, partition) in budgets {
                let key = Budget(account: account, gateway: gateway, rule: rule.id, partition: partition)
                var window = Self.window(windows[key], rule)
                window.add(amount, at: when)
                windows[key] = window
            }
        }
    }

    /// Adds an amount to one rule's budget only (rebuilding from stored costs, rule by rule).
    public func add(
        _ amount: Money, to rule: SpendLimits.Rule, account: String, gateway: String, _ request: SpendLimits.Request,
        at instant: Int64
    ) {
        guard amount.picodollars > 0 else { return }
        let value = Int64(clamping: amount.picodollars)
        guard let (_, partition) = SpendLimits(rules: [rule]).budgets(for: request).first else { return }
        windows.withLock { windows in
            let key = Budget(account: account, gateway: gateway, rule: rule.id, partition: partition)
            var window = Self.window(windows[key], rule)
            window.add(value, at: instant)
            windows[key] = window
        }
    }

    /// One budget's state, for `GET …/spend`.
    public struct Status: Sendable, Equatable {
        public var rule: String
        public var partition: [String]
        public var limit: Money
        public var spent: Money
        public var window: Int
        public var technique: BudgetWindow.Technique
    }

    /// Every budget of a gateway's rules: each rule without partitions, and each partition seen so far.
    public func status(_ limits: SpendLimits, account: String, gateway: String) -> [Status] {
        let instant = now()
        return windows.withLock { windows in
            var out: [Status] = []
            for rule in limits.rules {
                let hasPartitions =
                    rule.model == .partition || rule.provider == .partition
                    || rule.metadata.values.contains(.partition)
                var keys = windows.keys.filter {
                    $0.account == account && $0.gateway == gateway && $0.rule == rule.id
                }
                if !hasPartitions { keys = [Budget(account: account, gateway: gateway, rule: rule.id, partition: [])] }
                for key in keys.sorted(by: { $0.partition.lexicographicallyPrecedes($1.partition) }) {
                    var window = Self.window(windows[key], rule)
                    let spent = window.spent(at: instant)
                    windows[key] = window
                    out.append(
                        Status(
                            rule: rule.id, partition: key.partition, limit: rule.limit,
                            spent: Money(picodollars: Int128(spent)), window: rule.window, technique: rule.technique))
                }
            }
            return out
        }
    }

    /// The window kept for a budget: the stored one while the rule's window and technique are unchanged (a new
    /// limit applies to what was already spent).
    private static func window(_ stored: BudgetWindow?, _ rule: SpendLimits.Rule) -> BudgetWindow {
        let length = Int64(rule.window) * 1000
        if let stored, stored.length == length, stored.technique == rule.technique { return stored }
        return BudgetWindow(lengthMilliseconds: length, technique: rule.technique)
    }
}
