import ArgumentParser
import Foundation
import Logging
import ServiceLifecycle
import TollgateMockProvider

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `tollgate mock-provider`: runs the fake OpenAI/Anthropic server until SIGINT or SIGTERM.
struct MockProviderCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "mock-provider",
        abstract: "Run a local fake of the OpenAI and Anthropic APIs with deterministic replies and usage.",
        discussion: """
            Serves POST /v1/chat/completions, /v1/responses, /v1/embeddings (OpenAI) and /v1/messages \
            (Anthropic), streamed and not, and Bedrock's /model/{modelId}/converse, /converse-stream, /invoke and \
            /invoke-with-response-stream (AWS event streams); with --aws-secret-key, Bedrock requests must carry \
            a valid SigV4 signature. Request headers inject faults: x-mock-fault (close, delay-ms=N, \
            chunk-delay-ms=N, cut-stream-after=N, status=N), x-mock-usage (cached=N, cache-write=N, reasoning=N) \
            and x-mock-reply-words: N. Prints the bound port on start.
            """
    )

    @Option(help: "Interface to listen on.")
    var host: String = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free port).")
    var port: Int = 9090

    @Option(help: "Event-loop threads.")
    var threads: Int = 1

    @Option(help: "The reply text; its word count is the reported output token count.")
    var reply: String?

    @Option(
        help: ArgumentHelp(
            "AWS secret access key Bedrock requests must be SigV4-signed with (403 otherwise).",
            discussion: "Also read from TOLLGATE_MOCK_AWS_SECRET_KEY."))
    var awsSecretKey: String?

    @Option(help: "AWS access key id Bedrock signatures must name (any, when omitted).")
    var awsAccessKeyId: String?

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be between 0 and 65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
    }

    func run() async throws {
        var logger = Logger(label: "tollgate.mock-provider")
        logger.logLevel = .info
        var configuration = MockProvider.Configuration()
        configuration.threads = threads
        if let reply { configuration.replyText = reply }
        configuration.awsSecretAccessKey =
            awsSecretKey ?? ProcessInfo.processInfo.environment["TOLLGATE_MOCK_AWS_SECRET_KEY"]
        configuration.awsAccessKeyID = awsAccessKeyId
        let provider = MockProvider(configuration: configuration, logger: logger)
        let boundPort = try await provider.start(host: host, port: port)
        print("tollgate mock-provider listening on http://\(host):\(boundPort) (port \(boundPort))")
        fflush(nil)
        let group = ServiceGroup(
            services: [MockProviderService(provider: provider)],
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: logger
        )
        try await group.run()
    }
}

/// Keeps the started provider up until graceful shutdown, then stops it.
private struct MockProviderService: Service {
    let provider: MockProvider

    func run() async throws {
        try? await gracefulShutdown()
        try await provider.shutdown()
    }
}
