import Hummingbird
import TollgateModel
import TollgateStorage

/// `POST /api/v1/compact[?account=A]`: a retention and compaction pass now, on the live gateway (what `tollgate
/// compact` does on a stopped one). Expired logs leave the index; segments holding deleted logs are rewritten, or
/// dropped whole when all their logs are deleted. Answers when the pass is over, with what it did. Admin only.
struct CompactionRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.compact, prefix: Route.apiPrefix) { _, _, input in try await compact(input) }
    }

    private func compact(_ input: RouteInput) async throws -> Response {
        guard let retention = api.retention else {
            throw APIError.unavailable("retention and compaction are not run by this gateway")
        }
        let account = input.query.text("account")
        if let account {
            guard try await api.blocking({ try api.catalog.account(account) }) != nil
            else { throw APIError.notFound("account \(account)") }
        }
        let pass = try await retention.runPassInBackground(account: account)
        let c = pass.compaction
        return json {
            $0.beginObject()
            $0.key("expired"); $0.int(pass.expired)
            $0.key("segments_rewritten"); $0.int(c.segments)
            $0.key("segments_dropped"); $0.int(c.dropped)
            $0.key("logs_purged"); $0.int(c.purged)
            $0.key("bytes_before"); $0.int(c.bytesBefore)
            $0.key("bytes_after"); $0.int(c.bytesAfter)
            $0.key("segments_deferred"); $0.int(c.deferred)
            $0.endObject()
        }
    }
}

extension Route {
    static let compact = Route(
        .post, "/api/v1/compact",
        "Runs a retention and compaction pass now and answers when it is over: `expired`, `segments_rewritten`, "
            + "`segments_dropped`, `logs_purged`, `bytes_before`, `bytes_after`, `segments_deferred`.",
        query: [Field("account", .identifier, "only this account's logs")])
}
