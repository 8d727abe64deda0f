import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import TollgateGateway
import TollgateModel

/// A running gateway for a test: Hummingbird application on 127.0.0.1 with the proxy on the same port.
struct TestGateway {
    let port: Int
    let sink: TestSink
    let proxy: ProxyContext
    let serviceGroup: ServiceGroup

    /// Starts a graceful shutdown of the server, as SIGTERM would.
    func shutdownGracefully() async {
        await serviceGroup.triggerGracefulShutdown()
    }

    static let account = "acme"
    static let gateway = "prod"

    /// The proxy path prefix for `provider`.
    static func path(_ provider: String, _ rest: String) -> String {
        "/v1/\(account)/\(gateway)/\(provider)\(rest)"
    }

    /// Starts a gateway whose providers in `upstreams` (slug → base URL) point at test servers, runs `body`, stops.
    static func with(
        upstreams: [String: String],
        entries: [GatewayDirectory.Entry] = [GatewayDirectory.Entry(account: account, gateway: gateway)],
        configure: (inout ProxyConfiguration) -> Void = { _ in },
        sink exchangeSink: (any ExchangeSink)? = nil,
        http: HTTP1Channel.Configuration = .init(),
        cache: ResponseCaching? = nil,
        clock: TollgateClock = .system,
        _ body: (TestGateway) async throws -> Void
    ) async throws {
        var providers = ProviderTable.builtIn
        for (slug, url) in upstreams {
            providers = providers.overriding(slug, baseURL: url) ?? providers
        }
        var configuration = ProxyConfiguration()
        configure(&configuration)
        var logger = Logger(label: "tollgate.test")
        logger.logLevel = .critical
        let sink = TestSink()
        let proxy = try ProxyContext(
            providers: providers, directory: GatewayDirectory(entries), sink: exchangeSink ?? sink,
            generator: LogIDGenerator(),
            logger: logger, configuration: configuration, cache: cache, clock: clock)

        let router = Router()
        router.get("/api/ping") { _, _ in "pong" }
        router.head("/api/ping") { _, _ in "pong" }
        router.get("/api/slow") { _, _ in
            try await Task.sleep(for: .milliseconds(150))
            return "slow"
        }
        router.post("/api/echo") { request, _ in
            let body = try await request.body.collect(upTo: 1 << 20)
            return String(buffer: body)
        }
        let (ports, continuation) = AsyncStream<Int>.makeStream()
        let app = Application(
            router: router,
            server: .tollgate(proxy: proxy, configuration: http),
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            services: [proxy],
            onServerRunning: { channel in continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await serviceGroup.run() }
            var iterator = ports.makeAsyncIterator()
            guard let port = await iterator.next() else { return }
            do {
                try await body(TestGateway(port: port, sink: sink, proxy: proxy, serviceGroup: serviceGroup))
            } catch {
                group.cancelAll()
                await proxy.closeIdleConnections()
                throw error
            }
            group.cancelAll()
            await proxy.closeIdleConnections()
        }
    }
}
