import ServiceLifecycle

/// Run the context in the server's service group to close pooled upstream connections on graceful shutdown:
/// idle ones at once, busy ones when their exchange ends.
extension ProxyContext: Service {
    public func run() async throws {
        try? await gracefulShutdown()
        await closeIdleConnections()
    }
}
