import Foundation
import Testing
import TollgateAnalytics

@testable import TollgateGateway

/// A gateway's control settings through the API: each is stored, shown, cleared with null, checked with a 400 that
/// names the field, kept across a restart, and handed to the proxy's directory as typed values.
@Suite(.serialized) struct GatewaySettingsTests {
    static let settings = #"""
        {"rate_limiting_limit":50,"rate_limiting_interval":60,
         "rate_limiting_technique":"sliding","rate_limiting_key":"metadata.user","request_timeout":8000,
         "spend_limits":{"rules":[{"id":"daily","limit":12.5,"window":86400,
           "metadata":{"team":{"mode":"partition"}}}]}}
        """#

    @Test func settingsAreStoredShownClearedAndHandedToTheProxy() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data)
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        let patched = try await harness.api("PATCH", "/api/v1/accounts/default/gateways/default", json: Self.settings)
        #expect(patched.status == 200, "\(patched.text)")
        let shown = try patched.json()
        #expect(shown["rate_limiting_limit"] as? Int == 50 && shown["rate_limiting_key"] as? String == "metadata.user")
        #expect(shown["request_timeout"] as? Int == 8000)
        let rules = try #require((shown["spend_limits"] as? [String: Any])?["rules"] as? [[String: Any]])
        #expect(rules.first?["id"] as? String == "daily" && rules.first?["limitType"] as? String == "cost")
        #expect(patched.text.contains(#""limit":12.5"#))

        let entry = try #require(harness.gateway.directory.lookup(account: "default", gateway: "default"))
        #expect(
            entry.policy.rateLimit == RateLimit(limit: 50, interval: 60, technique: .sliding, key: .metadata("user")))
        #expect(entry.policy.requestTimeout == 8000)
        #expect(entry.policy.spendLimits?.rules.first?.limit == Money(picodollars: 12_500_000_000_000))

        // Kept across a restart, and a second gateway can be created with settings.
        try await harness.stop()
        harness = try await GatewayHarness.start(dataDirectory: data)
        let reloaded = try #require(harness.gateway.directory.lookup(account: "default", gateway: "default"))
        #expect(reloaded.policy == entry.policy)
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways",
            json: #"{"id":"limited","rate_limiting_limit":5,"rate_limiting_interval":10}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(
            harness.gateway.directory.lookup(account: "default", gateway: "limited")?.policy.rateLimit
                == RateLimit(limit: 5, interval: 10))

        // null clears a setting; the others stay.
        let cleared = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/default",
            json: #"{"rate_limiting_limit":null,"rate_limiting_interval":null,"spend_limits":null}"#)
        #expect(cleared.status == 200, "\(cleared.text)")
        let after = try cleared.json()
        #expect(after["rate_limiting_limit"] is NSNull && after["spend_limits"] is NSNull)
        #expect(after["request_timeout"] as? Int == 8000)
        #expect(harness.gateway.directory.lookup(account: "default", gateway: "default")?.policy.rateLimit == nil)
        try await harness.stop()
    }

    @Test func badSettingsNameTheFieldAndChangeNothing() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let before = try await harness.api("/api/v1/accounts/default/gateways/default").text
        let cases: [(String, String)] = [
            (#"{"rate_limiting_limit":10}"#, "rate_limiting_interval: required with rate_limiting_limit"),
            (#"{"rate_limiting_interval":10}"#, "rate_limiting_limit: required with rate_limiting_interval"),
            (#"{"rate_limiting_key":"user"}"#, "rate_limiting_key: expected null"),
            (#"{"rate_limiting_technique":"rolling"}"#, "rate_limiting_technique: expected one of fixed, sliding"),
            (#"{"request_timeout":0}"#, "request_timeout: expected a whole number from 1 to 600000"),
            (#"{"retry_max_attempts":6}"#, "retry_max_attempts: expected a whole number from 1 to 5"),
            (#"{"retry_delay":5001}"#, "retry_delay: expected a whole number from 0 to 5000"),
            (#"{"retry_backoff":"quadratic"}"#, "retry_backoff: expected one of constant, linear, exponential"),
            (#"{"cache_ttl":-5}"#, "cache_ttl: expected a whole number from 0 to 2592000"),
            (#"{"cache_invalidate_on_update":"yes"}"#, "cache_invalidate_on_update: expected true or false"),
            (#"{"spend_limits":{"rules":[{"limit":1}]}}"#, "spend_limits.rules[0].window: required"),
            (#"{"spend_limits":{"rules":[{"limit":"1.5x","window":60}]}}"#, "spend_limits.rules[0].limit"),
            (#"{"spend_limits":[]}"#, "spend_limits: expected a JSON object"),
            (#"{"request_timeout":60,"spend_limits":{"rules":[{"limt":1}]}}"#, "spend_limits.rules[0].limt: unknown"),
        ]
        for (body, message) in cases {
            let response = try await harness.api("PATCH", "/api/v1/accounts/default/gateways/default", json: body)
            #expect(response.status == 400, "\(body): \(response.text)")
            let error = try #require(try response.json()["error"] as? [String: Any])
            #expect((error["message"] as? String)?.hasPrefix(message) == true, "\(body): \(error)")
        }
        #expect(try await harness.api("/api/v1/accounts/default/gateways/default").text == before)
        try await harness.stop()
    }
}
