import Foundation
import Testing
import TollgateModel

/// The REST API's contract: auth, accounts and gateways, log listing with filters and cursors, JSON errors.
@Suite(.serialized) struct GatewayAPITests {
    @Test func everyRouteNeedsTheAdminToken() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        for path in ["/api/v1/accounts", "/api/v1/accounts/default", "/api/v1/accounts/default/logs", "/api/v1/ingest"]
        {
            let none = try await harness.request("GET", path)
            #expect(none.status == 401, "\(path)")
            let wrong = try await harness.request("GET", path, headers: ["Authorization": "Bearer nope"])
            #expect(wrong.status == 401, "\(path)")
            let error = try #require(try wrong.json()["error"] as? [String: Any])
            #expect(error["code"] as? String == "unauthorized")
        }
        try await harness.stop()
    }

    @Test func accountsAndGatewaysLifecycle() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let fresh = try await harness.api("/api/v1/accounts/default/gateways").json()
        #expect((fresh["gateways"] as? [[String: Any]])?.map { $0["id"] as? String } == ["default"])

        let created = try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme","tier":"paid"}"#)
        #expect(created.status == 201)
        #expect(try created.json()["tier"] as? String == "paid")
        let again = try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme","tier":"paid"}"#)
        #expect(again.status == 409)
        let fetched = try await harness.api("/api/v1/accounts/acme")
        #expect(try fetched.json()["id"] as? String == "acme")

        let gateway = try await harness.api("POST", "/api/v1/accounts/acme/gateways", json: #"{"id":"prod"}"#)
        #expect(gateway.status == 201)
        // The proxy knows the new gateway at once.
        let proxied = try await harness.request(
            "POST", "/v1/acme/prod/openai/embeddings", headers: ["Content-Type": "application/json"],
            body: Data(#"{"model":"text-embedding-3-small","input":"hello"}"#.utf8))
        #expect(proxied.status == 200)
        let logs = try await harness.waitForLogs(account: "acme", count: 1)
        #expect(logs.first?["gateway"] as? String == "prod")
        // …and another account does not see it.
        let other = try await harness.waitForLogs(account: "default", count: 1, timeout: .zero)
        #expect(other.isEmpty)
        try await harness.stop()
    }

    @Test func badInputNamesTheParameter() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let cases: [(String, String, String?, Int, String)] = [
            ("POST", "/api/v1/accounts", #"{"id":"Not Valid"}"#, 400, "id"),
            ("POST", "/api/v1/accounts", #"{"id":"ok","tier":"gold"}"#, 400, "tier"),
            ("POST", "/api/v1/accounts", "not json", 400, "JSON"),
            ("POST", "/api/v1/accounts/default/gateways", #"{"id":"-bad"}"#, 400, "id"),
            ("GET", "/api/v1/accounts/default/logs?limit=0", nil, 400, "limit"),
            ("GET", "/api/v1/accounts/default/logs?limit=1001", nil, 400, "limit"),
            ("GET", "/api/v1/accounts/default/logs?from=yesterday", nil, 400, "from"),
            ("GET", "/api/v1/accounts/default/logs?order=up", nil, 400, "order"),
            ("GET", "/api/v1/accounts/default/logs?success=maybe", nil, 400, "success"),
            ("GET", "/api/v1/accounts/default/logs?cursor=garbage", nil, 400, "cursor"),
            ("GET", "/api/v1/accounts/default/logs?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z", nil, 400, "to"),
            ("GET", "/api/v1/accounts/nobody", nil, 404, "nobody"),
            ("GET", "/api/v1/accounts/default/logs/0190a6f2-7c1e-7d3a-9b2f-1c2d3e4f5a6b", nil, 404, "log"),
            ("GET", "/api/v1/no-such-route", nil, 404, "no-such-route"),
        ]
        for (method, path, body, status, mention) in cases {
            let response = try await harness.api(method, path, json: body)
            #expect(response.status == status, "\(method) \(path)")
            let error = try #require(try response.json()["error"] as? [String: Any], "\(path)")
            #expect((error["message"] as? String ?? "").contains(mention), "\(path): \(error)")
            #expect(error["code"] is String)
        }
        try await harness.stop()
    }

    @Test func cursorPagesHaveNoDuplicatesOrGapsWhileInsertsContinue() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let generator = LogIDGenerator()
        func record(_ i: Int) -> LogRecord {
            let id = generator.next()
            return LogRecord(
                id: id, createdAt: id.milliseconds, account: "default", gateway: "default", provider: "openai",
                model: "gpt-5-mini", path: "/chat/completions", method: "POST", statusCode: 200, success: true,
                stream: false, durationMicros: 1000, ttftMicros: 500, requestSize: 10, responseSize: 20,
                requestBody: Array("request \(i)".utf8), responseBody: Array("response \(i)".utf8))
        }
        let first = (0..<230).map(record)
        try harness.gateway.store.append(first)
        try harness.gateway.store.commit()

        for order in ["desc", "asc"] {
            var seen: [String] = []
            var cursor: String? = nil
            var pages = 0
            repeat {
                let query =
                    "/api/v1/accounts/default/logs?limit=50&order=\(order)" + (cursor.map { "&cursor=\($0)" } ?? "")
                let page = try await harness.api(query).json()
                seen += (page["logs"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
                pages += 1
                if pages == 2 {
                    // New logs arrive while the client pages.
                    try harness.gateway.store.append((0..<7).map(record))
                    try harness.gateway.store.commit()
                }
            } while cursor != nil && pages < 20
            let expected = first.map(\.id.description)
            #expect(Set(seen).count == seen.count, "duplicates in \(order)")
            #expect(Set(expected).isSubset(of: Set(seen)), "gaps in \(order)")
            let sorted = seen.sorted()
            #expect(seen == (order == "asc" ? sorted : sorted.reversed()))
        }
        try await harness.stop()
    }
}
