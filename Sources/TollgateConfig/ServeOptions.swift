/// What `tollgate serve` runs with: each value from a flag, else from the configuration file's `serve:` section,
/// else the default. Nil means "not given here".
///
/// `keys` declares every one once, with its file key (the flag's name with underscores), its type and its help:
/// the file is read by it, `serve --help` shows it, and the README's configuration table is written from it.
public struct ServeOptions: Sendable, Equatable {
    public var host: String?
    public var port: Int?
    public var data: String?
    /// `PROVIDER=URL` overrides, in order (a later one for the same provider wins).
    public var upstream: [String]?
    /// The Cloudflare account every `workers-ai` request goes to; nil: the gateway path's account.
    public var workersAIAccount: String?
    public var commitIntervalMs: Int?
    public var queueCapacity: Int?
    public var retentionIntervalMinutes: Int?
    public var cacheMaxMb: Int?
    public var logLevel: String?
    public var logFormat: String?
    public var metricsPublic: Bool?

    public init() {}

    /// A serve setting as the file and the flags name it.
    public struct Key: Sendable {
        /// The file key: `commit_interval_ms`.
        public let name: String
        public let kind: Kind
        public let help: String
        /// The default, as the documentation shows it.
        public let defaultValue: String

        /// `--commit-interval-ms`.
        public var flag: String { "--" + name.replacingOccurrences(of: "_", with: "-") }
    }

    /// The values a serve setting takes.
    public enum Kind: Sendable {
        case text
        case integer(ClosedRange<Int>)
        case boolean
        case choice([String])
        /// A mapping of provider slug to base URL.
        case upstreams

        var expectation: String {
            switch self {
            case .text: "expected a non-empty string"
            case .integer(let range): "expected a whole number from \(range.lowerBound) to \(range.upperBound)"
            case .boolean: "expected true or false"
            case .choice(let names): "expected one of \(names.joined(separator: ", "))"
            case .upstreams: "expected a mapping of provider slug to base URL (http:// or https://)"
            }
        }

        var markdownName: String {
            switch self {
            case .text: "text"
            case .integer(let range): "integer \(range.lowerBound)–\(range.upperBound)"
            case .boolean: "`true` or `false`"
            case .choice(let names): "one of " + names.map { "`\($0)`" }.joined(separator: ", ")
            case .upstreams: "mapping of provider to URL"
            }
        }
    }

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
    public static let logFormats = ["text", "logfmt", "json"]

    /// What `serve` runs with when neither a flag nor the file gives a value (`upstream`: the providers' own URLs).
    public static let defaults: ServeOptions = {
        var options = ServeOptions()
        options.host = "127.0.0.1"
        options.port = 8787
        options.data = "./tollgate-data"
        options.commitIntervalMs = 200
        options.queueCapacity = 65_536
        options.retentionIntervalMinutes = 5
        options.cacheMaxMb = 1024
        options.logLevel = "info"
        options.logFormat = "text"
        options.metricsPublic = false
        return options
    }()

    public static let keys: [Key] = [
        Key(name: "host", kind: .text, help: "Address to listen on.", defaultValue: defaults.host!),
        Key(name: "port", kind: .integer(0...65_535), help: "Port to listen on.", defaultValue: "\(defaults.port!)"),
        Key(
            name: "data", kind: .text, help: "Data folder (env TOLLGATE_DATA; a flag wins over it, it over the file).",
            defaultValue: defaults.data!),
        Key(
            name: "upstream", kind: .upstreams,
            help: "Override a provider's base URL: PROVIDER=URL (repeatable; in the file a mapping).",
            defaultValue: "none"),
        Key(
            name: "workers_ai_account", kind: .text,
            help: "Cloudflare account id for every workers-ai request (env TOLLGATE_WORKERS_AI_ACCOUNT); by default "
                + "the gateway path's account.",
            defaultValue: "none"),
        Key(
            name: "commit_interval_ms", kind: .integer(1...1000),
            help: "Group commit interval in milliseconds (1–1000): the longest a log waits to be durable.",
            defaultValue: "\(defaults.commitIntervalMs!)"),
        Key(
            name: "queue_capacity", kind: .integer(1...Int(Int32.max)),
            help: "Ingest queue capacity (exchanges waiting to be stored); beyond it logs are dropped and counted.",
            defaultValue: "\(defaults.queueCapacity!)"),
        Key(
            name: "retention_interval_minutes", kind: .integer(0...1440),
            help: "Minutes between two retention and compaction passes (1–1440); 0 turns the background passes off.",
            defaultValue: "\(defaults.retentionIntervalMinutes!)"),
        Key(
            name: "cache_max_mb", kind: .integer(1...Int(Int32.max)),
            help: "Megabytes of cached responses kept in DATA/cache; the least recently used are evicted past it.",
            defaultValue: "\(defaults.cacheMaxMb!)"),
        Key(
            name: "log_level", kind: .choice(logLevels),
            help: "Log level: trace, debug, info, notice, warning, error, critical.", defaultValue: defaults.logLevel!),
        Key(
            name: "log_format", kind: .choice(logFormats),
            help: "Log line format: text (swift-log's default), logfmt or json.",
            defaultValue: defaults.logFormat!),
        Key(
            name: "metrics_public", kind: .boolean,
            help: "Serve GET /metrics without a token (by default it takes the admin token).",
            defaultValue: "\(defaults.metricsPublic!)"),
    ]

    /// The help of a flag, with its default: what `serve --help` prints.
    public static func help(_ name: String) -> String {
        guard let key = keys.first(where: { $0.name == name }) else { preconditionFailure("no serve key \(name)") }
        return key.help + (key.defaultValue == "none" || key.kind.isBoolean ? "" : " (default: \(key.defaultValue))")
    }

    /// These options with `flags` laid over them: a value given on the command line wins; upstream overrides add
    /// up, the flags' last.
    public func overridden(by flags: ServeOptions) -> ServeOptions {
        var merged = self
        merged.host = flags.host ?? host
        merged.port = flags.port ?? port
        merged.data = flags.data ?? data
        if let extra = flags.upstream, !extra.isEmpty { merged.upstream = (upstream ?? []) + extra }
        merged.workersAIAccount = flags.workersAIAccount ?? workersAIAccount
        merged.commitIntervalMs = flags.commitIntervalMs ?? commitIntervalMs
        merged.queueCapacity = flags.queueCapacity ?? queueCapacity
        merged.retentionIntervalMinutes = flags.retentionIntervalMinutes ?? retentionIntervalMinutes
        merged.cacheMaxMb = flags.cacheMaxMb ?? cacheMaxMb
        merged.logLevel = flags.logLevel ?? logLevel
        merged.logFormat = flags.logFormat ?? logFormat
        merged.metricsPublic = flags.metricsPublic ?? metricsPublic
        return merged
    }

    /// The first value out of its key's range or names, as "--flag: expected …"; nil when all are good. The file's
    /// values were checked as they were read, so what this finds came from a flag.
    public func problem() -> String? {
        let integers: [String: Int?] = [
            "port": port, "commit_interval_ms": commitIntervalMs, "queue_capacity": queueCapacity,
            "retention_interval_minutes": retentionIntervalMinutes, "cache_max_mb": cacheMaxMb,
        ]
        let texts: [String: String?] = ["log_level": logLevel, "log_format": logFormat]
        for key in Self.keys {
            switch key.kind {
            case .integer(let range):
                if let value = integers[key.name] ?? nil, !range.contains(value) {
                    return "\(key.flag): \(key.kind.expectation), got \(value)"
                }
            case .choice(let names):
                if let value = texts[key.name] ?? nil, !names.contains(value) {
                    return "\(key.flag): \(key.kind.expectation), got \(value)"
                }
            case .text, .boolean, .upstreams: continue
            }
        }
        return nil
    }

    /// The README's table of the `serve:` keys, from `keys`.
    public static func markdownTable() -> String {
        var out = "| key | flag | value | default | what it sets |\n| --- | --- | --- | --- | --- |\n"
        for key in keys {
            out +=
                "| `\(key.name)` | `\(key.flag)` | \(key.kind.markdownName) | `\(key.defaultValue)` | \(key.help) |\n"
        }
        return out
    }
}

extension ServeOptions.Kind {
    var isBoolean: Bool {
        if case .boolean = self { return true }
        return false
    }
}
