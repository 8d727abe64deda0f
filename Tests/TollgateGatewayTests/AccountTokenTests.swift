import Foundation
import Hummingbird
import Testing
import TollgateModel

@testable import TollgateGateway

/// Account API tokens: creation, listing, revocation, and what a token of one account may reach.
@Suite(.serialized) struct AccountTokenTests {
    struct Token {
        var id: String
        var token: String
    }

    static func createToken(_ harness: GatewayHarness, account: String) async throws -> Token {
        let created = try await harness.api("POST", "/api/v1/accounts/\(account)/tokens")
        #expect(created.status == 201, "\(created.text)")
        let json = try created.json()
        return Token(id: try #require(json["id"] as? String), token: try #require(json["token"] as? String))
    }

    static func get(_ harness: GatewayHarness, _ path: String, token: String) async throws -> GatewayHarness.HTTPResult
    {
        try await harness.request("GET", path, headers: ["Authorization": "Bearer \(token)"])
    }

    @Test func createdOnceListedWithoutSecretRevokedAtOnce() async throws {
        let data = makeTemporaryDirectory()
        var harness = try await GatewayHarness.start(dataDirectory: data)
        // Whichever gateway is running when the test ends, also when it ends early.
        defer {
            let running = harness
            Task { try? await running.stop() }
        }
        _ = try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme"}"#)
        let token = try await Self.createToken(harness, account: "acme")
        #expect(token.token.hasPrefix("tg_") && token.token.utf8.count == 67)
        #expect(token.token.dropFirst(3).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(AccountTokenSecret.hex([0x00, 0xab, 0xff]) == "00abff")
        #expect(token.id.utf8.count == 16)
        let second = try await Self.createToken(harness, account: "acme")
        #expect(second.token != token.token && second.id != token.id)

        // The list shows ids and times, never the token or its hash.
        let listed = try await harness.api("/api/v1/accounts/acme/tokens")
        #expect(listed.status == 200)
        #expect(!listed.text.contains(token.token) && !listed.text.contains("hash"))
        let rows = try #require(try listed.json()["tokens"] as? [[String: Any]])
        #expect(rows.map { $0["id"] as? String } == [token.id, second.id])
        #expect(rows.allSatisfy { $0["created_at"] is String && $0["revoked_at"] is NSNull })
        #expect(Set(rows.first?.keys.map { $0 } ?? []) == ["id", "account", "created_at", "revoked_at"])

        // The token reaches its account's logs, and not the token routes.
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: token.token).status == 200)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/tokens", token: token.token).status == 403)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: token.token + "x").status == 401)
        #expect(
            try await Self.get(harness, "/api/v1/accounts/acme/logs", token: "tg_" + String(repeating: "0", count: 64))
                .status == 401)
        let lowercaseScheme = try await harness.request(
            "GET", "/api/v1/accounts/acme/logs", headers: ["Authorization": "bearer \(token.token)"])
        #expect(lowercaseScheme.status == 200)

        // Revocation works with the next request.
        let revoked = try await harness.api("DELETE", "/api/v1/accounts/acme/tokens/\(token.id)")
        #expect(revoked.status == 204)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: token.token).status == 401)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: second.token).status == 200)
        let afterRevoke = try #require(
            try await harness.api("/api/v1/accounts/acme/tokens").json()["tokens"] as? [[String: Any]])
        #expect(afterRevoke.first?["revoked_at"] is String && afterRevoke.last?["revoked_at"] is NSNull)

        // Unknown and malformed ids, another account's token, an unknown account: 404.
        for path in [
            "/api/v1/accounts/acme/tokens/ffffffffffffffff", "/api/v1/accounts/acme/tokens/..%2F..%2Fsecrets",
            "/api/v1/accounts/acme/tokens/NOT-AN-ID", "/api/v1/accounts/nobody/tokens/\(second.id)",
            "/api/v1/accounts/default/tokens/\(second.id)",
        ] {
            let response = try await harness.api("DELETE", path)
            #expect(response.status == 404, "\(path)")
        }
        #expect(try await harness.api("POST", "/api/v1/accounts/nobody/tokens").status == 404)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: second.token).status == 200)

        // The catalog holds the hash, never the token.
        try await harness.stop()
        for file in try FileManager.default.contentsOfDirectory(atPath: data) where file.hasPrefix("catalog") {
            let bytes = try Data(contentsOf: URL(fileURLWithPath: data + "/" + file))
            #expect(bytes.range(of: Data(token.token.utf8)) == nil, "\(file)")
            #expect(bytes.range(of: Data(second.token.utf8)) == nil, "\(file)")
        }

        // After a restart the live token works and the revoked one does not.
        harness = try await GatewayHarness.start(dataDirectory: data)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: second.token).status == 200)
        #expect(try await Self.get(harness, "/api/v1/accounts/acme/logs", token: token.token).status == 401)
        try await harness.stop()
    }

    /// How each registered route answers each kind of token. The table must name every route the router has, so a
    /// route added later fails here until its access is decided.
    static let routeAccess: [String: APIAccess] = [
        "POST /api/v1/accounts": .admin,
        "GET /api/v1/accounts": .admin,
        "GET /api/v1/accounts/{account}": .admin,
        "POST /api/v1/accounts/{account}/gateways": .admin,
        "GET /api/v1/accounts/{account}/gateways": .admin,
        "GET /api/v1/accounts/{account}/gateways/{gateway}": .admin,
        "PATCH /api/v1/accounts/{account}/gateways/{gateway}": .admin,
        "DELETE /api/v1/accounts/{account}/gateways/{gateway}": .admin,
        "GET /api/v1/accounts/{account}/gateways/{gateway}/spend": .admin,
        "POST /api/v1/accounts/{account}/custom-providers": .admin,
        "GET /api/v1/accounts/{account}/custom-providers": .admin,
        "GET /api/v1/accounts/{account}/custom-providers/{slug}": .admin,
        "PATCH /api/v1/accounts/{account}/custom-providers/{slug}": .admin,
        "DELETE /api/v1/accounts/{account}/custom-providers/{slug}": .admin,
        "POST /api/v1/accounts/{account}/provider-keys": .admin,
        "GET /api/v1/accounts/{account}/provider-keys": .admin,
        "DELETE /api/v1/accounts/{account}/provider-keys/{id}": .admin,
        "POST /api/v1/accounts/{account}/tokens": .admin,
        "GET /api/v1/accounts/{account}/tokens": .admin,
        "DELETE /api/v1/accounts/{account}/tokens/{id}": .admin,
        "GET /api/v1/prices": .admin,
        "POST /api/v1/prices": .admin,
        "DELETE /api/v1/prices": .admin,
        "GET /api/v1/accounts/{account}/prices": .admin,
        "POST /api/v1/accounts/{account}/prices": .admin,
        "DELETE /api/v1/accounts/{account}/prices": .admin,
        "POST /api/v1/accounts/{account}/reprice": .admin,
        "GET /api/v1/ingest": .admin,
        "POST /api/v1/compact": .admin,
        "GET /api/v1/accounts/{account}/logs": .account,
        "GET /api/v1/accounts/{account}/logs/{id}": .account,
        "GET /api/v1/accounts/{account}/logs/{id}/request": .account,
        "GET /api/v1/accounts/{account}/logs/{id}/response": .account,
        "GET /api/v1/accounts/{account}/usage": .account,
        "GET /api/v1/accounts/{account}/reports/monthly": .account,
        "GET /api/v1/accounts/{account}/quota": .account,
        "PATCH /api/v1/accounts/{account}": .admin,
        "DELETE /api/v1/accounts/{account}/logs/{id}": .account,
        "PATCH /api/v1/accounts/{account}/logs/{id}": .account,
        "DELETE /api/v1/accounts/{account}/logs": .account,
        "POST /client/v4/accounts/{account}/ai-gateway/gateways": .admin,
        "GET /client/v4/accounts/{account}/ai-gateway/gateways": .admin,
        "GET /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}": .admin,
        "PUT /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}": .admin,
        "DELETE /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}": .admin,
        "POST /client/v4/accounts/{account}/ai-gateway/custom-providers": .admin,
        "GET /client/v4/accounts/{account}/ai-gateway/custom-providers": .admin,
        "GET /client/v4/accounts/{account}/ai-gateway/custom-providers/{slug}": .admin,
        "DELETE /client/v4/accounts/{account}/ai-gateway/custom-providers/{slug}": .admin,
        "DELETE /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs": .account,
        "GET /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs": .account,
        "GET /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}": .account,
        "PATCH /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}": .account,
        "GET /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}/request": .account,
        "GET /client/v4/accounts/{account}/ai-gateway/gateways/{gateway}/logs/{id}/response": .account,
    ]

    @Test func everyRouteWithOwnOtherRevokedAndNoToken() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        var tokens: [String: Token] = [:]
        var logIDs: [String: String] = [:]
        var revokedTokens: [String: Token] = [:]
        for account in ["acme", "globex"] {
            _ = try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"\#(account)"}"#)
            _ = try await harness.api("POST", "/api/v1/accounts/\(account)/gateways", json: #"{"id":"prod"}"#)
            _ = try await harness.api(
                "POST", "/api/v1/accounts/\(account)/custom-providers",
                json: #"{"slug":"house","base_url":"https://llm.example.com","api":"none"}"#)
            let proxied = try await harness.request(
                "POST", "/v1/\(account)/prod/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(proxied.status == 200)
            let logs = try await harness.waitForLogs(account: account, count: 1)
            logIDs[account] = try #require(logs.first?["id"] as? String)
            tokens[account] = try await Self.createToken(harness, account: account)
            let revoked = try await Self.createToken(harness, account: account)
            #expect(try await harness.api("DELETE", "/api/v1/accounts/\(account)/tokens/\(revoked.id)").status == 204)
            revokedTokens[account] = revoked
        }

        let api = APIServices(
            catalog: harness.gateway.store.catalog, store: harness.gateway.store, ledger: harness.gateway.ledger,
            quota: harness.gateway.quota, directory: harness.gateway.directory, ingest: harness.gateway.queue)
        let routes = APIRouter.make(api: api, adminToken: "unused").routes
            .map { "\($0.method) \($0.path)" }
            // The OpenAPI document needs no token (`OpenAPITests`).
            .filter { ($0.contains(" /api/v1/") || $0.contains(" /client/v4/")) && $0 != Route.openAPI.name }
        #expect(routes.count >= Self.routeAccess.count)
        #expect(
            Set(routes) == Set(Self.routeAccess.keys),
            "routes without a decided access: \(Set(routes).subtracting(Self.routeAccess.keys).sorted())")

        func fill(_ pattern: String, account: String) throws -> String {
            var path = pattern.replacingOccurrences(of: "{account}", with: account)
                .replacingOccurrences(of: "{gateway}", with: "prod")
                .replacingOccurrences(of: "{slug}", with: "house")
            if path.contains("/tokens/{id}") {
                path = path.replacingOccurrences(of: "{id}", with: try #require(tokens[account]).id)
            } else {
                path = path.replacingOccurrences(of: "{id}", with: try #require(logIDs[account]))
            }
            #expect(!path.contains("{"), "no value for a parameter of \(pattern)")
            return path
        }

        var checked = 0
        // Deleting routes last (one log, then all), so the routes that read a log still find it.
        func rank(_ route: String) -> Int {
            route.hasPrefix("DELETE /api/v1/accounts/{account}/logs/")
                ? 1 : route.hasSuffix("/logs") && route.hasPrefix("DELETE") ? 2 : 0
        }
        for route in routes.sorted(by: { (rank($0), $0) < (rank($1), $1) }) {
            let parts = route.split(separator: " ", maxSplits: 1).map(String.init)
            let (method, pattern) = (parts[0], parts[1])
            let access = try #require(Self.routeAccess[route])
            #expect(
                APIAccess.required(method: HTTPRequest.Method(rawValue: method)!, route: pattern) == access, "\(route)")
            // Annotating a log takes at least one field; the other routes take an empty object.
            let body =
                method == "GET"
                ? nil : Data((pattern.hasSuffix("/logs/{id}") && method == "PATCH" ? #"{"score":50}"# : "{}").utf8)
            // Deleting every log of an account takes an explicit `all=true`.
            // (Cloudflare's takes no `all`: without filters it deletes the gateway's logs up to its `limit`.)
            let query =
                method == "DELETE" && pattern.hasSuffix("/logs") && pattern.hasPrefix("/api/") ? "?all=true" : ""
            for (own, other) in [("acme", "globex"), ("globex", "acme")] {
                let token = try #require(tokens[own]).token
                func send(_ path: String, _ bearer: String?) async throws -> GatewayHarness.HTTPResult {
                    var headers = ["Content-Type": "application/json"]
                    if let bearer { headers["Authorization"] = "Bearer \(bearer)" }
                    return try await harness.request(method, path, headers: headers, body: body)
                }
                // Another account's resources: 404 where account-scoped (as if it did not exist), 403 elsewhere.
                let otherPath = try fill(pattern, account: other) + query
                let cross = try await send(otherPath, token)
                #expect(cross.status == (access == .account ? 404 : 403), "\(own) token, \(method) \(otherPath)")
                if access == .account {
                    let missing = try await send(
                        otherPath.replacingOccurrences(of: "/\(other)", with: "/nobody"), token)
                    #expect(missing.status == 404, "\(route)")
                    let crossMessage = (try cross.json()["error"] as? [String: Any])?["message"] as? String
                    let missingMessage = (try missing.json()["error"] as? [String: Any])?["message"] as? String
                    #expect(
                        crossMessage?.replacingOccurrences(of: other, with: "X")
                            == missingMessage?.replacingOccurrences(of: "nobody", with: "X"), "\(route)")
                }
                // Its own: served where account-scoped, 403 elsewhere.
                let ownPath = try fill(pattern, account: own) + query
                let mine = try await send(ownPath, token)
                #expect(
                    mine.status == (access == .account ? 200 : 403), "\(own) token, \(method) \(ownPath): \(mine.text)")
                // No token, a wrong one, a revoked one: 401.
                #expect(try await send(ownPath, nil).status == 401, "no token, \(method) \(ownPath)")
                #expect(try await send(ownPath, "wrong").status == 401, "wrong token, \(method) \(ownPath)")
                let revoked = try #require(revokedTokens[own]).token
                #expect(try await send(ownPath, revoked).status == 401, "revoked token, \(method) \(ownPath)")
            }
            // The admin token reaches every route (read-only ones tried, so the others' data stays in place).
            if method == "GET" {
                let path = try fill(pattern, account: "acme")
                let admin = try await harness.api(path)
                #expect(admin.status == 200, "admin, GET \(path): \(admin.text)")
            }
            checked += 1
        }
        #expect(checked == Self.routeAccess.count)
        try await harness.stop()
    }

    @Test func accessRuleIsByPath() {
        // Routes that other parts of the API may add later are decided by the same rule.
        let cases: [(HTTPRequest.Method, String, APIAccess)] = [
            (.delete, "/api/v1/accounts/{account}/logs", .account),
            (.delete, "/api/v1/accounts/{account}/logs/{id}", .account),
            (.get, "/api/v1/accounts/{account}/quota", .account),
            (.put, "/api/v1/accounts/{account}/quota", .admin),
            (.post, "/api/v1/accounts/{account}/logs", .admin),
            (.patch, "/api/v1/accounts/{account}", .admin),
            (.delete, "/api/v1/accounts/{account}", .admin),
            (.get, "/api/v1/accounts/{account}/gateways", .admin),
            (.get, "/api/v1/accounts/{account}/tokens", .admin),
            (.get, "/api/v1/logs", .admin),
            (.get, "/api/v1/accounts/logs/usage", .admin),
            (.get, "", .admin),
        ]
        for (method, route, expected) in cases {
            #expect(APIAccess.required(method: method, route: route) == expected, "\(method) \(route)")
        }
    }

    @Test func tokenDirectoryMatchesOnlyLiveTokensOfTheAccount() {
        let a = Array("tg_aaaa".utf8)
        let b = Array("tg_bbbb".utf8)
        let directory = TokenDirectory([
            .init(account: "acme", id: "0000000000000001", hash: TokenDirectory.hash(a)),
            .init(account: "globex", id: "0000000000000002", hash: TokenDirectory.hash(b)),
        ])
        #expect(directory.verify(a, account: "acme"))
        #expect(!directory.verify(a, account: "globex"))
        #expect(!directory.verify(Array("tg_aaa".utf8), account: "acme"))
        #expect(directory.account(of: b) == "globex")
        #expect(directory.account(of: Array("nope".utf8)) == nil)
        directory.remove(account: "acme", id: "0000000000000001")
        #expect(!directory.verify(a, account: "acme"))
        #expect(directory.account(of: a) == nil)
        #expect(TokenDirectory.hash(Array("abc".utf8)).count == 32)
        // SHA-256("abc"), the FIPS 180-2 example.
        #expect(
            AccountTokenSecret.hex(TokenDirectory.hash(Array("abc".utf8)))
                == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(TokenDirectory.bearerCredential("Bearer xyz").map { Array($0) } == Array("xyz".utf8))
        #expect(TokenDirectory.bearerCredential("BEARER xyz").map { Array($0) } == Array("xyz".utf8))
        #expect(TokenDirectory.bearerCredential("Basic xyz") == nil)
        #expect(TokenDirectory.bearerCredential("Bearer ") == nil)
        #expect(TokenDirectory.constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!TokenDirectory.constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!TokenDirectory.constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(!TokenDirectory.constantTimeEquals([], [0]))
    }
}
