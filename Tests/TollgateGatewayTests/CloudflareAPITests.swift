import Foundation
import Testing

/// The Cloudflare-compatible gateway routes under `/client/v4`: Cloudflare's envelope, its paging, its errors, and
/// settings that land where `/api/v1` puts them.
@Suite(.serialized) struct CloudflareAPITests {
    static let base = "/client/v4/accounts/default/ai-gateway/gateways"

    static func envelope(_ result: GatewayHarness.HTTPResult) throws -> [String: Any] {
        let body = try result.json()
        #expect(Set(body.keys).isSuperset(of: ["success", "errors", "messages", "result"]), "\(result.text)")
        return body
    }

    @Test func gatewaysCreateGetUpdateInTheEnvelope() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let created = try await harness.api(
            "POST", Self.base,
            json: #"{"id":"prod","cache_invalidate_on_update":false,"cache_ttl":60,"collect_logs":true,"#
                + #""rate_limiting_interval":10,"rate_limiting_limit":5,"rate_limiting_technique":"sliding"}"#)
        #expect(created.status == 200, "\(created.text)")
        let body = try Self.envelope(created)
        #expect(body["success"] as? Bool == true)
        #expect((body["errors"] as? [Any])?.isEmpty == true)
        let result = try #require(body["result"] as? [String: Any])
        #expect(result["id"] as? String == "prod")
        #expect(result["cache_ttl"] as? Int == 60)
        #expect(result["rate_limiting_technique"] as? String == "sliding")

        // The same gateway through /api/v1, and through Cloudflare's fetch.
        let native = try await harness.api("/api/v1/accounts/default/gateways/prod").json()
        #expect(native["rate_limiting_limit"] as? Int == 5)
        let fetched = try Self.envelope(try await harness.api(Self.base + "/prod"))
        #expect((fetched["result"] as? [String: Any])?["cache_ttl"] as? Int == 60)

        let updated = try await harness.api(
            "PUT", Self.base + "/prod", json: #"{"cache_ttl":null,"collect_logs":false}"#)
        #expect(updated.status == 200, "\(updated.text)")
        let after = try #require(try Self.envelope(updated)["result"] as? [String: Any])
        #expect(after["cache_ttl"] is NSNull)
        #expect(after["collect_logs"] as? Bool == false)
        #expect(after["rate_limiting_limit"] as? Int == 5)
        try await harness.stop()
    }

    @Test func listPagesWithResultInfoAndSearch() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        for id in ["alpha", "beta", "gamma", "alphabet"] {
            #expect(try await harness.api("POST", Self.base, json: #"{"id":"\#(id)"}"#).status == 200)
        }
        // `default` exists from the start: five gateways in id order.
        var seen: [String] = []
        for page in 1...3 {
            let body = try Self.envelope(try await harness.api(Self.base + "?per_page=2&page=\(page)"))
            let ids = try #require(body["result"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            let info = try #require(body["result_info"] as? [String: Any])
            #expect(info["page"] as? Int == page)
            #expect(info["per_page"] as? Int == 2)
            #expect(info["count"] as? Int == ids.count)
            #expect(info["total_count"] as? Int == 5)
            seen += ids
        }
        #expect(seen == ["alpha", "alphabet", "beta", "default", "gamma"])
        let past = try Self.envelope(try await harness.api(Self.base + "?per_page=2&page=4"))
        #expect((past["result"] as? [Any])?.isEmpty == true)
        let searched = try Self.envelope(try await harness.api(Self.base + "?search=alpha"))
        #expect(
            (searched["result"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["alpha", "alphabet"])
        try await harness.stop()
    }

    @Test func errorsInTheEnvelope() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let cases: [(String, String, String?, Int, String)] = [
            ("GET", Self.base + "?per_page=0", nil, 400, "per_page"),
            ("GET", Self.base + "?order_by=id", nil, 400, "order_by"),
            ("POST", Self.base, #"{"id":"x","logpush":true}"#, 400, "logpush"),
            ("POST", Self.base, #"{"id":"default"}"#, 409, "already_exists"),
            ("PUT", Self.base + "/nope", #"{"cache_ttl":5}"#, 404, "gateway nope"),
            ("GET", Self.base + "/nope", nil, 404, "gateway nope"),
            ("GET", "/client/v4/accounts/nobody/ai-gateway/gateways", nil, 404, "nobody"),
        ]
        for (method, path, json, status, mention) in cases {
            let result = try await harness.api(method, path, json: json)
            #expect(result.status == status, "\(method) \(path): \(result.text)")
            let body = try Self.envelope(result)
            #expect(body["success"] as? Bool == false)
            #expect(body["result"] is NSNull)
            let errors = try #require(body["errors"] as? [[String: Any]])
            #expect(errors.first?["code"] as? Int == status)
            #expect((errors.first?["message"] as? String)?.contains(mention) == true, "\(result.text)")
        }
        let anonymous = try await harness.request("GET", Self.base)
        #expect(anonymous.status == 401)
        #expect(try Self.envelope(anonymous)["success"] as? Bool == false)
        try await harness.stop()
    }
}

/// The Cloudflare-compatible logs of a gateway: paging, order, filters, one log, its bodies.
@Suite(.serialized) struct CloudflareLogsAPITests {
    static let base = "/client/v4/accounts/default/ai-gateway/gateways/default/logs"

    @Test func logsPageOrderFilterAndRead() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        for model in ["gpt-5-mini", "gpt-5-mini", "gpt-5", "gpt-5-mini", "gpt-5-mini"] {
            let proxied = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Data(#"{"model":"\#(model)","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(proxied.status == 200)
        }
        let native = try await harness.waitForLogs(count: 5)
        let newestFirst = native.compactMap { $0["id"] as? String }
        #expect(newestFirst.count == 5)

        var seen: [String] = []
        for page in 1...3 {
            let body = try CloudflareAPITests.envelope(try await harness.api(Self.base + "?per_page=2&page=\(page)"))
            let ids = try #require(body["result"] as? [[String: Any]]).compactMap { $0["id"] as? String }
            let info = try #require(body["result_info"] as? [String: Any])
            #expect(info["page"] as? Int == page)
            #expect(info["count"] as? Int == ids.count)
            seen += ids
        }
        #expect(seen == newestFirst)
        let past = try CloudflareAPITests.envelope(try await harness.api(Self.base + "?per_page=2&page=4"))
        #expect((past["result"] as? [Any])?.isEmpty == true)

        let ascending = try CloudflareAPITests.envelope(
            try await harness.api(Self.base + "?order_by=created_at&order_by_direction=asc&per_page=50"))
        #expect(
            (ascending["result"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
                == newestFirst.reversed())
        let filtered = try CloudflareAPITests.envelope(
            try await harness.api(Self.base + "?model=gpt-5&provider=openai&success=true&cached=false"))
        let only = try #require(filtered["result"] as? [[String: Any]])
        #expect(only.count == 1)
        #expect(only.first?["model"] as? String == "gpt-5")

        let id = newestFirst[0]
        let one = try #require(
            try CloudflareAPITests.envelope(try await harness.api(Self.base + "/\(id)"))["result"] as? [String: Any])
        #expect(one["id"] as? String == id)
        #expect(one["provider"] as? String == "openai")
        #expect(one["duration"] is Int)
        #expect(one["metadata"] as? String == "{}")
        let request = try await harness.api(Self.base + "/\(id)/request")
        #expect(request.status == 200)
        #expect(request.text.contains("gpt-5-mini"))
        #expect(try await harness.api(Self.base + "/\(id)/response").status == 200)

        // Feedback, as /api/v1 takes it, shown in both.
        let patched = try await harness.api("PATCH", Self.base + "/\(id)", json: #"{"feedback":1,"score":90}"#)
        #expect(patched.status == 200, "\(patched.text)")
        let after = try #require(try CloudflareAPITests.envelope(patched)["result"] as? [String: Any])
        #expect(after["feedback"] as? Int == 1)
        #expect(after["score"] as? Int == 90)
        let nativeLog = try await harness.api("/api/v1/accounts/default/logs/\(id)").json()
        #expect(nativeLog["score"] as? Int == 90)
        #expect(try await harness.api("PATCH", Self.base + "/\(id)", json: #"{"score":101}"#).status == 400)
        let wrongGateway = "/client/v4/accounts/default/ai-gateway/gateways/nope/logs/\(id)"
        #expect(try await harness.api("PATCH", wrongGateway, json: #"{"score":1}"#).status == 404)

        // Errors in the envelope: an unknown order, another gateway's path, an unknown log.
        #expect(try await harness.api(Self.base + "?order_by=model").status == 400)
        let elsewhere = "/client/v4/accounts/default/ai-gateway/gateways/nope/logs"
        #expect(try await harness.api(elsewhere).status == 404)
        let missing = try await harness.api(Self.base + "/ffffffffffffffffffffffffff")
        #expect(missing.status == 404)
        #expect(try CloudflareAPITests.envelope(missing)["success"] as? Bool == false)
        try await harness.stop()
    }
}
