import ArgumentParser
import Foundation
import Logging
import TollgateConfig
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
            TOLLGATE_UPSTREAM_OPENAI=http://127.0.0.1:9090/v1; dashes in slugs become underscores). With --config \
            FILE, the file's serve: keys are the flags' (a flag given wins), and its accounts, gateways, custom \
            providers and prices are applied at start. For the templated providers (azure-openai, google-vertex-ai, \
            aws-bedrock, workers-ai) the URL replaces only the scheme, host and port their path names; the mapped \
            path and the provider's Host header stay. workers-ai's Cloudflare account is the gateway path's account, \
            or --workers-ai-account's.
            """
    )

    @Option(help: "A YAML configuration file: serve settings, accounts, gateways, custom providers, prices.")
    var config: String?

    @Option(help: ArgumentHelp(ServeOptions.help("host")))
    var host: String?

    @Option(help: ArgumentHelp(ServeOptions.help("port")))
    var port: Int?

    @Option(name: .customLong("data"), help: ArgumentHelp(ServeOptions.help("data")))
    var dataDirectory: String?

    @Option(
        name: .customLong("upstream"),
        help: ArgumentHelp(ServeOptions.help("upstream"), valueName: "provider=url"))
    var upstreams: [String] = []

    @Option(
        name: .customLong("workers-ai-account"),
        help: ArgumentHelp(ServeOptions.help("workers_ai_account"), valueName: "id"))
    var workersAIAccount: String?

    @Option(help: ArgumentHelp(ServeOptions.help("commit_interval_ms")))
    var commitIntervalMs: Int?

    @Option(help: ArgumentHelp(ServeOptions.help("queue_capacity")))
    var queueCapacity: Int?

    @Option(help: ArgumentHelp(ServeOptions.help("retention_interval_minutes")))
    var retentionIntervalMinutes: Int?

    @Option(help: ArgumentHelp(ServeOptions.help("cache_max_mb")))
    var cacheMaxMb: Int?

    @Option(help: ArgumentHelp(ServeOptions.help("log_level")))
    var logLevel: String?

    @Option(help: ArgumentHelp(ServeOptions.help("log_format")))
    var logFormat: String?

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(ServeOptions.help("metrics_public")))
    var metricsPublic: Bool?

    /// The values given as flags.
    var flags: ServeOptions {
        var flags = ServeOptions()
        flags.host = host
        flags.port = port
        flags.data = dataDirectory
        flags.upstream = upstreams
        flags.workersAIAccount = workersAIAccount
        flags.commitIntervalMs = commitIntervalMs
        flags.queueCapacity = queueCapacity
        flags.retentionIntervalMinutes = retentionIntervalMinutes
        flags.cacheMaxMb = cacheMaxMb
        flags.logLevel = logLevel
        flags.logFormat = logFormat
        flags.metricsPublic = metricsPublic
        return flags
    }

    func run() async throws {
        var file = ConfigFile()
        if let config {
            do {
                file = try ConfigFile.load(path: config)
            } catch {
                throw ValidationError("\(error)")
            }
        }
        let given = file.serve.overridden(by: flags)
        let options = ServeOptions.defaults.overridden(by: given)
        if let problem = options.problem() { throw ValidationError(problem) }
        let logFormat = options.logFormat!
        var logger =
            if let format = StructuredLogHandler.Format(rawValue: logFormat) {
                Logger(label: "tollgate") { StructuredLogHandler(label: $0, format: format) }
            } else {
                Logger(label: "tollgate")
            }
        logger.logLevel = Logger.Level(rawValue: options.logLevel!) ?? .info

        let environment = ProcessInfo.processInfo.environment
        let data = dataDirectory ?? environment["TOLLGATE_DATA"] ?? options.data!
        let commitIntervalMs = options.commitIntervalMs!
        let retentionIntervalMinutes = options.retentionIntervalMinutes!
        let cacheMaxMb = options.cacheMaxMb!
        var providers = try ProviderOverrides.apply(
            file: file.serve.upstream ?? [], flags: upstreams, environment: environment, to: .builtIn)
        if let url = providers.provider(ProviderTemplate.workersAI.rawValue)?.baseURL, url.contains("/accounts/") {
            throw ValidationError(
                "--upstream workers-ai=URL replaces only the scheme, host and port; the upstream path, "
                    + "/client/v4/accounts/{account}/ai/…, is the provider's: name the Cloudflare account with "
                    + "--workers-ai-account (or the gateway path's account), not in the URL")
        }
        if let account = workersAIAccount ?? environment["TOLLGATE_WORKERS_AI_ACCOUNT"] ?? options.workersAIAccount,
            !account.isEmpty
        {
            guard let table = providers.workersAIAccount(account) else {
                throw ValidationError(
                    "--workers-ai-account must be a Cloudflare account id (letters, digits, '-', '_', '.')")
            }
            providers = table
        }
        try FileManager.default.createDirectory(atPath: data, withIntermediateDirectories: true)
        let adminToken = try AdminToken.load(dataDirectory: data, environment: environment)

        var configuration = GatewayApp.Configuration(dataDirectory: data, adminToken: adminToken.value)
        let host = options.host!
        configuration.host = host
        configuration.port = options.port!
        configuration.providers = providers
        configuration.ingest.commitInterval = .milliseconds(commitIntervalMs)
        configuration.queueCapacity = options.queueCapacity!
        configuration.metricsPublic = options.metricsPublic!
        configuration.cache.maxBytes = Int64(cacheMaxMb) << 20
        configuration.retention.enabled = retentionIntervalMinutes > 0
        configuration.retention.interval = .seconds(max(1, retentionIntervalMinutes) * 60)
        configuration.onListening = { port in
            Output.line("tollgate listening on http://\(host):\(port) (data: \(data))")
        }
        let gateway = try GatewayApp(configuration: configuration, logger: logger)
        if let config {
            let outcome: Declarations.Outcome
            do {
                outcome = try await gateway.apply(file.declarations)
            } catch {
                throw ValidationError("\(ConfigFileError(error))")
            }
            Output.line(
                "\(config): \(outcome.created.count) created, \(outcome.updated.count) updated, "
                    + "\(outcome.unchanged) unchanged")
            for name in outcome.created { logger.info("configuration created \(name)") }
            for name in outcome.updated { logger.info("configuration updated \(name)") }
        }
        if adminToken.generated {
            Output.line("admin token (saved to \(data)/admin-token): \(adminToken.value)")
        }
        try await gateway.run(logger: logger)
    }
}
