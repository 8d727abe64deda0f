import Foundation
import Testing

@testable import TollgateGateway

/// The OpenAPI document: written from the route declarations, served without a token, and committed as
/// `Sources/TollgateGateway/API/openapi.json` (a route added or changed without rewriting the copy fails here).
@Suite struct OpenAPITests {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Sources/TollgateGateway/API/openapi.json")

    @Test func committedCopyIsTheGeneratedDocument() throws {
        let committed = try String(contentsOf: Self.fixture, encoding: .utf8)
        #expect(
            committed == APIRouter.openAPIDocument(),
            "Sources/TollgateGateway/API/openapi.json is out of date: run scripts/openapi.sh")
    }

    @Test func everyRouteAndNothingElseIsInTheDocument() throws {
        let document = try #require(
            try JSONSerialization.jsonObject(with: Data(APIRouter.openAPIDocument().utf8)) as? [String: Any])
        #expect(document["openapi"] as? String == "3.1.0")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, operations) in paths {
            for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") }
        }
        #expect(documented == Set(Route.all.map(\.name)))
        for route in Route.all {
            #expect(OpenAPISuccess.byRoute[route.name] != nil, "\(route.name) has no success response")
            let operation = try #require(paths[route.path]?[route.method.rawValue.lowercased()] as? [String: Any])
            let parameters = (operation["parameters"] as? [[String: Any]]) ?? []
            let names = Set(parameters.map { "\($0["in"]!):\($0["name"]!)" })
            let expected = Set(
                route.pathParameters.map { "path:\($0)" } + route.query.filter { !$0.prefix }.map { "query:\($0.name)" }
            )
            #expect(names == expected, "\(route.name)")
            let responses = try #require(operation["responses"] as? [String: Any])
            #expect(responses["400"] != nil && responses["default"] != nil, "\(route.name)")
            if route.audience != "no token" {
                #expect(responses["401"] != nil, "\(route.name)")
                #expect((operation["security"] as? [[String: Any]])?.first?["bearer"] != nil, "\(route.name)")
            }
            let body = (operation["requestBody"] as? [String: Any]).flatMap {
                (($0["content"] as? [String: Any])?["application/json"] as? [String: Any])?["schema"] as? [String: Any]
            }
            #expect(
                Set(((body?["properties"] as? [String: Any]) ?? [:]).keys) == Set((route.body ?? []).map(\.name)),
                "\(route.name)")
        }
        // A range is carried over: the logs list's page size.
        let list = try #require(paths["/api/v1/accounts/{account}/logs"]?["get"] as? [String: Any])
        let limit = try #require(
            (list["parameters"] as? [[String: Any]])?.first { $0["name"] as? String == "limit" })
        let schema = try #require(limit["schema"] as? [String: Any])
        #expect(schema["type"] as? String == "integer")
        #expect(schema["minimum"] as? Int == 1)
        #expect(schema["maximum"] as? Int == 1000)
        // A nullable choice takes null as well as its names.
        let patch = try #require(paths["/api/v1/accounts/{account}/gateways/{gateway}"]?["patch"] as? [String: Any])
        let properties = try #require(
            ((((patch["requestBody"] as? [String: Any])?["content"] as? [String: Any])?["application/json"]
                as? [String: Any])?["schema"] as? [String: Any])?["properties"] as? [String: Any])
        let technique = try #require(properties["rate_limiting_technique"] as? [String: Any])
        let names = try #require(technique["enum"] as? [Any])
        #expect(names.count == 3 && names.last is NSNull)
    }

    @Test func servedWithoutAToken() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let response = try await harness.request("GET", "/api/v1/openapi.json")
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.text == APIRouter.openAPIDocument())
        // The documented top-level members are the ones the handlers write.
        let account = try await harness.api("GET", "/api/v1/accounts/default").json()
        #expect(Set(account.keys) == Set(OpenAPISuccess.account))
        let gateway = try await harness.api("GET", "/api/v1/accounts/default/gateways/default").json()
        #expect(Set(gateway.keys) == Set(OpenAPISuccess.gateway))
        let logs = try await harness.api("GET", "/api/v1/accounts/default/logs").json()
        #expect(Set(logs.keys) == ["logs", "next_cursor"])
        // Other API routes still need one.
        #expect(try await harness.request("GET", "/api/v1/accounts").status == 401)
        try await harness.stop()
    }
}

extension OpenAPITests {
    /// A declared path asked with a method it does not take is a 405 naming the methods it takes, not a 404.
    @Test func undeclaredMethodOnADeclaredPathIs405() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let trace = try await harness.api("TRACE", "/api/v1/prices")
        #expect(trace.status == 405)
        #expect(trace.headers["allow"] == "GET, POST, DELETE")
        #expect(trace.text.contains(#""code":"method_not_allowed""#))
        #expect(try await harness.request("POST", "/healthz").status == 405)
        #expect(
            try await harness.api("PUT", "/api/v1/accounts/default/logs/x").headers["allow"] == "GET, PATCH, DELETE")
        #expect(try await harness.api("GET", "/api/v1/nothing").status == 404)
        try await harness.stop()
    }

    @Test func pathPatternsMatchConcretePaths() {
        #expect(Route.methods(matching: "/api/v1/accounts/acme") == "GET, PATCH")
        #expect(Route.methods(matching: "/api/v1/accounts/acme/extra/x") == nil)
        #expect(Route.methods(matching: "/api/v1/accounts//gateways") == nil)
    }
}
