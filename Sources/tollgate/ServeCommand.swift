import ArgumentParser
import Foundation
import Logging
import TollgateGateway
import TollgateModel
import TollgateStorage

/// `tollgate serve`: the gateway — proxy and REST API on one port, the log store in a data folder.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the gateway: the proxy under /v1/ and the REST API under /api/v1/ on one port.",
        discussion: """
            Environment: TOLLGATE_DATA (data folder), TOLLGATE_ADMIN_TOKEN (admin bearer token; otherwise one is \
            generated into DATA/admin-token on first start), TOLLGATE_UPSTREAM_<PROVIDER> (base URL override, e.g. \
            TOLLGATE_UPSTREAM_OPENAI=http://127.0.0.1:9090/v1; dashes in slugs become underscores). For the             templated providers (azure-openai, google-vertex-ai, aws-bedrock) the URL replaces only the scheme, host             and port their path names; the mapped path and the provider's Host header stay. workers-ai is served only \
            with its base URL set, e.g. https://api.cloudflare.com/client/v4/accounts/{account_id}/ai.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 8787

    @Option(name: .customLong("data"), help: "Data folder (env TOLLGATE_DATA).")
    var dataDirectory: String?

    @Option(
        name: .customLong("upstream"),
        help: ArgumentHelp("Override a provider's base URL: PROVIDER=URL (repeatable).", valueName: "provider=url"))
    var upstreams: [String] = []

    @Option(help: "Group commit interval in milliseconds (1–1000): the longest a log waits to be durable.")
    var commitIntervalMs = 200

    @Option(help: "Ingest queue capacity (exchanges waiting to be stored); beyond it logs are dropped and counted.")
    var queueCapacity = 65_536

    @Option(help: "Minutes between two retention and compaction passes (1–1440); 0 turns the background passes off.")
    var retentionIntervalMinutes = 5

    @Option(help: "Megabytes of cached responses kept in DATA/cache; the least recently used are evicted past it.")
    var cacheMaxMb = 1024

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel = "info"

    @Option(help: "Log line format: text (swift-log's default), logfmt or json.")
    var logFormat = "text"

    @Flag(help: "Serve GET /metrics without a token (by default it takes the admin token).")
    var metricsPublic = false

    func run() async throws {
        guard logFormat == "text" || StructuredLogHandler.Format(rawValue: logFormat) != nil else {
            throw ValidationError("--log-format must be text, logfmt or json")
        }
        var logger =
            if let format = StructuredLogHandler.Format(rawValue: logFormat) {
                Logger(label: "tollgate") { StructuredLogHandler(label: $0, format: format) }
            } else {
                Logger(label: "tollgate")
            }
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info

        let environment = ProcessInfo.processInfo.environment
        let data = dataDirectory ?? environment["TOLLGATE_DATA"] ?? "./tollgate-data"
        guard (1...1000).contains(commitIntervalMs) else {
            throw ValidationError("--commit-interval-ms must be from 1 to 1000")
        }
        guard (0...1440).contains(retentionIntervalMinutes) else {
            throw ValidationError("--retention-interval-minutes must be from 0 to 1440")
        }
        guard cacheMaxMb >= 1 else {
            throw ValidationError("--cache-max-mb must be at least 1")
        }
        let providers = try ProviderOverrides.apply(flags: upstreams, environment: environment, to: .builtIn)
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let adminToken = try AdminToken.load(dataDirectory: data, environment: environment)

        var configuration = GatewayApp.Configuration(dataDirectory: data, adminToken: adminToken.value)
        configuration.host = host
        configuration.port = port
        configuration.providers = providers
        configuration.ingest.commitInterval = .milliseconds(commitIntervalMs)
        configuration.queueCapacity = queueCapacity
        configuration.metricsPublic = metricsPublic
        configuration.cache.maxBytes = Int64(cacheMaxMb) << 20
        configuration.retention.enabled = retentionIntervalMinutes > 0
        configuration.retention.interval = .seconds(max(1, retentionIntervalMinutes) * 60)
        let host = self.host
        configuration.onListening = { port in
            Output.line("tollgate listening on http://\(host):\(port) (data: \(data))")
        }
        let gateway = try GatewayApp(configuration: configuration, logger: logger)
        if adminToken.generated {
            Output.line("admin token (saved to \(data)/admin-token): \(adminToken.value)")
        }
        try await gateway.run(logger: logger)
    }
}
