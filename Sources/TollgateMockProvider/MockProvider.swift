import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A local fake of the OpenAI and Anthropic HTTP APIs: a real HTTP/1.1 server on SwiftNIO, for tests, the demo
/// and benchmarks.
///
/// Endpoints (all `POST`, JSON bodies; anything else is a 404 in OpenAI's error shape):
/// - `/v1/chat/completions`: a `chat.completion`; with `stream: true`, `chat.completion.chunk` server-sent events
///   ending in `data: [DONE]`; with `stream_options.include_usage`, every chunk carries `"usage":null` and a final
///   chunk with empty `choices` carries the usage.
/// - `/v1/responses`: a `response` object; streamed as typed events from `response.created` through
///   `response.output_text.delta` to `response.completed` (which carries the usage).
/// - `/v1/embeddings`: one deterministic vector per input (`dimensions` honoured; `encoding_format: "base64"` gives
///   little-endian float32 bytes in base64, as the official SDKs request by default).
/// - `/v1/messages` (Anthropic): a `message`; streamed as `message_start`, `content_block_start`, `ping`,
///   `content_block_delta`…, `content_block_stop`, `message_delta` (output usage), `message_stop`.
/// - Templated providers' paths (`MockRoute`): Azure OpenAI's `/openai/deployments/{deployment}/chat/completions`
///   (`embeddings`, `responses`) in OpenAI's shapes, answering for the model `x-mock-model` names (else the
///   deployment); Vertex AI's `/v1/projects/{project}/locations/{region}/publishers/{publisher}/models/{model}:…`
///   — `generateContent` / `streamGenerateContent` in Gemini's shapes with `usageMetadata` (a JSON array, or
///   server-sent events with `?alt=sse`), `rawPredict` / `streamRawPredict` as Anthropic messages for the path's
///   model; Workers AI's `/client/v4/accounts/{account_id}/ai/run/{model}` in its `result` envelope, streamed as
///   `data: {"response":…}` events ending in a usage event and `data: [DONE]` (errors in Cloudflare's
///   `success: false` envelope), and its OpenAI-compatible `…/ai/v1/chat/completions` and `…/ai/v1/embeddings`;
///   Hugging Face's `/models/{model}/v1/chat/completions` in OpenAI's shapes for the path's model, and its
///   text-generation task `/models/{model}` (`{"inputs":…}`) as `[{"generated_text":…}]`, streamed as
///   text-generation-inference's token events, the last with `details` (`generated_tokens`, `input_length`).
///
/// Everything is deterministic: the same request body always gives byte-identical content. The reply is
/// ``Configuration/replyText`` (one output token per word; streams send one word per event), the model is the
/// request's, ids derive from a hash of the body, `created` is ``Configuration/createdTimestamp``. Input tokens are
/// the words in the request's `messages`, `input`, `instructions`, `system`, `prompt`, `contents`,
/// `systemInstruction` and `inputs` strings (values of `role` and `type` members excluded), plus one per number there
/// (pre-tokenized input).
///
/// Request headers steer the fake for tests (see `MockFault` for the grammar):
/// - `x-mock-fault: close` — close the connection without answering.
/// - `x-mock-fault: delay-ms=N` — wait N ms before the response head.
/// - `x-mock-fault: chunk-delay-ms=N` — wait N ms between server-sent events.
/// - `x-mock-fault: cut-stream-after=N` — close the connection after N events (non-streaming: after N body bytes).
/// - `x-mock-fault: status=N` — answer status N with an error body in the provider's shape.
///   Directives combine: `x-mock-fault: delay-ms=50, chunk-delay-ms=10, cut-stream-after=3`.
/// - `x-mock-usage: input=N, cached=N, cache-write=N, cache-write-1h=N, reasoning=N` — report N input tokens in
///   all, cached input, cache-write (Anthropic, and OpenAI chat completions), 1-hour cache-write (Anthropic) and
///   reasoning tokens.
/// - `x-mock-reply-words: N` — reply with N words.
/// A malformed `x-mock-*` header gets a 400.
public final class MockProvider: Sendable {
    public let configuration: Configuration
    private let logger: Logger
    private let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let responder: MockResponder
    private let state = Mutex(State())

    private struct State {
        var serverChannel: (any Channel)?
        var connections: [ObjectIdentifier: any Channel] = [:]
        var isShutDown = false
    }

    /// - Parameters:
    ///   - group: event loops to serve on; when `nil`, the provider runs its own group of
    ///     ``Configuration/threads`` threads and shuts it down in ``shutdown()``.
    ///   - logger: receives start, stop and connection errors; by default nothing is logged.
    public init(
        configuration: Configuration = .init(),
        group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "tollgate.mock-provider", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.configuration = configuration
        self.logger = logger
        if let group {
            self.group = group
            self.ownsGroup = false
        } else {
            self.group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
            self.ownsGroup = true
        }
        self.responder = MockResponder(configuration: configuration)
    }

    /// Requests answered so far (every request the provider parsed, faults included).
    public var requestCount: Int { Int(responder.counter.count) }

    /// The bound port, once started.
    public var port: Int? {
        state.withLock { $0.serverChannel?.localAddress?.port }
    }

    /// Binds and starts serving; returns the bound port (useful with `port: 0`).
    @discardableResult
    public func start(host: String = "127.0.0.1", port: Int = 0) async throws -> Int {
        let alreadyStarted = state.withLock { $0.serverChannel != nil || $0.isShutDown }
        if alreadyStarted {
            throw MockProviderError(code: .alreadyStarted, message: "the mock provider was already started")
        }
        let responder = self.responder
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [weak self] channel in
                self?.track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    // Response headers are built from constants and validated values: skip re-validation.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                        withErrorHandling: true, withOutboundHeaderValidation: false)
                    try channel.pipeline.syncOperations.addHandler(MockHTTPHandler(responder: responder))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(host: host, port: port).get()
        } catch {
            throw MockProviderError(code: .bindFailed, message: "cannot listen on \(host):\(port)", cause: error)
        }
        let stored = state.withLock { state -> Bool in
            guard state.serverChannel == nil, !state.isShutDown else { return false }
            state.serverChannel = channel
            return true
        }
        guard stored else {
            try? await channel.close()
            throw MockProviderError(code: .alreadyStarted, message: "the mock provider was already started")
        }
        let boundPort = channel.localAddress?.port ?? port
        logger.info("mock provider listening", metadata: ["server.host": "\(host)", "server.port": "\(boundPort)"])
        return boundPort
    }

    /// Stops accepting, closes open connections and, if the provider made its own event loops, shuts them down.
    public func shutdown() async throws {
        let (server, connections, wasShutDown) = state.withLock { state in
            let result = (state.serverChannel, Array(state.connections.values), state.isShutDown)
            state.serverChannel = nil
            state.connections = [:]
            state.isShutDown = true
            return result
        }
        guard !wasShutDown else { return }
        if let server {
            try? await server.close()
        }
        for connection in connections {
            try? await connection.close()
        }
        if ownsGroup {
            try await group.shutdownGracefully()
        }
        logger.info("mock provider stopped")
    }

    private func track(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        state.withLock { $0.connections[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in
            self?.state.withLock { _ = $0.connections.removeValue(forKey: id) }
        }
    }
}
