import Foundation
import Hummingbird
import Testing
import TollgateModel

@testable import TollgateGateway

/// Every route refuses what it does not understand: unknown query parameters, repeated or empty ones, unknown body
/// fields, values of the wrong type, null where null is not allowed. Each is a 400 naming the culprit, and nothing
/// changes.
@Suite(.serialized) struct StrictInputTests {
    /// What a client can see of the gateway's state, to compare before and after refused requests.
    static func snapshot(_ harness: GatewayHarness) async throws -> [String] {
        var state: [String] = []
        for path in [
            "/api/v1/accounts", "/api/v1/accounts/acme/gateways", "/api/v1/accounts/default/gateways",
            "/api/v1/accounts/acme/tokens", "/api/v1/prices?provider=openai", "/api/v1/accounts/acme/prices",
            "/api/v1/accounts/acme/quota", "/api/v1/accounts/acme/logs?limit=1000",
            "/api/v1/accounts/default/logs?limit=1000",
        ] {
            let response = try await harness.api(path)
            #expect(response.status == 200, "\(path): \(response.text)")
            state.append("\(path) \(response.text)")
        }
        return state
    }

    /// A value of the kind that the check accepts.
    static func validText(_ kind: Route.Kind) -> String {
        switch kind {
        case .text, .identifier: "x"
        case .integer(let range): "\(range.lowerBound)"
        case .boolean: "true"
        case .timestamp: "2026-01-01T00:00:00Z"
        case .date: "2026-01-01"
        case .month: "2026-01"
        case .choice(let names), .subset(let names): names[0]
        case .timeZone: "UTC"
        case .price, .requestFee: "1.5"
        case .object: "{}"
        case .filterParts: "provider"
        }
    }

    /// A query value the kind refuses, or nil for plain text, which takes any non-empty value.
    static func invalidText(_ kind: Route.Kind) -> String? {
        switch kind {
        case .text: nil
        case .identifier: "Not%20Valid"
        case .integer(let range): "\(range.upperBound + 1)"
        case .boolean: "maybe"
        case .timestamp, .date: "yesterday"
        case .month: "2026-13"
        case .choice, .subset: "nonsense"
        case .timeZone: "Mars/Olympus"
        case .price, .requestFee: "-1"
        case .object: "x"
        case .filterParts: nil
        }
    }

    /// A JSON value of the wrong type for the kind.
    static func wrongJSON(_ kind: Route.Kind) -> String {
        switch kind {
        case .integer, .price, .requestFee, .boolean: #""yes""#
        default: "12"
        }
    }

    static func error(_ response: GatewayHarness.HTTPResult) throws -> (code: String, message: String) {
        // The `/client/v4` routes answer in Cloudflare's envelope, Tollgate's code leading the message.
        if let errors = try response.json()["errors"] as? [[String: Any]], let first = errors.first,
            let text = first["message"] as? String, let colon = text.range(of: ": ")
        {
            return (String(text[..<colon.lowerBound]), String(text[colon.upperBound...]))
        }
        let error = try #require(try response.json()["error"] as? [String: Any], "\(response.text)")
        return (error["code"] as? String ?? "", error["message"] as? String ?? "")
    }

    @Test func everyRouteRefusesWhatItDoesNotDeclareAndNothingChanges() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme"}"#).status == 201)
        #expect(try await harness.api("POST", "/api/v1/accounts/acme/gateways", json: #"{"id":"prod"}"#).status == 201)
        let token = try await harness.api("POST", "/api/v1/accounts/acme/tokens").json()
        let tokenID = try #require(token["id"] as? String)
        for account in ["acme", "default"] {
            let gateway = account == "acme" ? "prod" : "default"
            for _ in 0..<3 {
                let proxied = try await harness.request(
                    "POST", "/v1/\(account)/\(gateway)/openai/chat/completions",
                    headers: ["Content-Type": "application/json"],
                    body: Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
                #expect(proxied.status == 200)
            }
            #expect(try await harness.waitForLogs(account: account, count: 3).count == 3)
        }
        let logID = try #require(try await harness.waitForLogs(account: "acme", count: 3).first?["id"] as? String)

        // The router serves exactly the declared routes.
        let api = APIServices(
            catalog: harness.gateway.store.catalog, store: harness.gateway.store, ledger: harness.gateway.ledger,
            quota: harness.gateway.quota, directory: harness.gateway.directory, ingest: harness.gateway.queue)
        let registered = APIRouter.make(api: api, adminToken: "unused").routes.map { "\($0.method) \($0.path)" }
        #expect(registered.count == Route.all.count)
        #expect(Set(registered) == Set(Route.all.map(\.name)))

        let before = try await Self.snapshot(harness)
        var checked = 0
        func expectRefused(
            _ route: Route, _ query: String, body: String? = nil, naming name: String, _ because: String
        ) async throws {
            let path = route.path.replacingOccurrences(of: "{account}", with: "acme")
                .replacingOccurrences(of: "{gateway}", with: "prod")
                .replacingOccurrences(of: "{id}", with: route.path.contains("/tokens/") ? tokenID : logID)
            let response = try await harness.api("\(route.method)", path + query, json: body)
            let sent = "\(route.name) \(query) \(body ?? "")"
            #expect(response.status == 400, "\(sent): \(response.status) \(response.text)")
            let (code, message) = try Self.error(response)
            #expect(code == "invalid_parameter", "\(sent): \(code)")
            #expect(message.hasPrefix("\(name): ") && message.contains(because), "\(sent): \(message)")
            checked += 1
        }

        for route in Route.all {
            // An unknown query parameter, named, with the accepted ones listed.
            let expected = route.query.isEmpty ? "none" : route.query.map(\.displayName).joined(separator: ", ")
            try await expectRefused(
                route, "?modle=nothing", naming: "modle", "unknown parameter; expected \(expected)")
            for field in route.query {
                if case .filterParts = field.kind {
                    // Cloudflare's `filters` parts repeat by design; what is wrong in them is named.
                    try await expectRefused(
                        route, "?filters.kye=provider", naming: "filters.kye", "unknown part; expected filters.key")
                    try await expectRefused(
                        route, "?filters.operator=eq", naming: "filters.operator", "comes before any filters.key")
                    try await expectRefused(
                        route, "?filters.key=provider&filters.value=openai", naming: "filters", "has no operator")
                    try await expectRefused(
                        route, "?filters.key=cost&filters.operator=gt&filters.value=1", naming: "filters",
                        "cost with operator gt is not supported")
                    try await expectRefused(
                        route, "?filters.key=provider&filters.operator=neq&filters.value=openai", naming: "filters",
                        "provider with operator neq is not supported")
                    try await expectRefused(
                        route, "?filters[0][key]=success&filters[0][operator]=eq&filters[0][value]=maybe",
                        naming: "filters", "success: expected true or false")
                    try await expectRefused(route, "?filters=x", naming: "filters", "no key after the prefix")
                    try await expectRefused(route, "?filter=x", naming: "filter", "unknown parameter")
                    continue
                }
                let valid = Self.validText(field.kind)
                // A prefix parameter is checked through one of its members; the prefix alone names no key.
                let name = field.prefix ? field.name + "user" : field.name
                try await expectRefused(
                    route, "?\(name)=\(valid)&\(name)=\(valid)", naming: name, "given more than once")
                try await expectRefused(route, "?\(name)=", naming: name, "empty value")
                if let invalid = Self.invalidText(field.kind) {
                    try await expectRefused(route, "?\(name)=\(invalid)", naming: name, "expected")
                }
                if field.prefix {
                    try await expectRefused(
                        route, "?\(field.name)=\(valid)", naming: field.name, "no key after the prefix")
                    // A name that only starts like the prefix is not one of its members.
                    let stem = String(field.name.dropLast())
                    try await expectRefused(route, "?\(stem)=\(valid)", naming: stem, "unknown parameter")
                }
            }
            guard route.method != .get else { continue }
            guard let fields = route.body else {
                let required = route.query.filter(\.required).map { "\($0.name)=\(Self.validText($0.kind))" }
                try await expectRefused(
                    route, required.isEmpty ? "" : "?" + required.joined(separator: "&"), body: #"{"unexpected":1}"#,
                    naming: "unexpected", "unknown field; this route takes no")
                continue
            }
            try await expectRefused(
                route, "", body: #"{"colect_logs":false}"#, naming: "colect_logs",
                "unknown field; expected \(fields.map(\.name).joined(separator: ", "))")
            for field in fields {
                try await expectRefused(
                    route, "", body: #"{"\#(field.name)":\#(Self.wrongJSON(field.kind))}"#, naming: field.name,
                    "expected")
                if !field.nullable {
                    try await expectRefused(
                        route, "", body: #"{"\#(field.name)":null}"#, naming: field.name, "expected")
                }
                if field.required {
                    let others = fields.filter { $0.name != field.name && $0.required }
                    let body = others.map { #""\#($0.name)":"\#(Self.validText($0.kind))""# }
                    try await expectRefused(
                        route, "", body: "{" + body.joined(separator: ",") + "}", naming: field.name, "required")
                }
            }
            try await expectRefused(
                route, "", body: #"{"\#(fields[0].name)":12,"\#(fields[0].name)":13}"#, naming: fields[0].name,
                "given more than once")
        }
        #expect(checked > 100)
        #expect(try await Self.snapshot(harness) == before)
        try await harness.stop()
    }

    /// The cases a user met: each used to answer as if the misspelled filter or setting were not there.
    @Test func misspelledFiltersAndSettingsAreRefused() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        #expect(try await harness.api("POST", "/api/v1/accounts", json: #"{"id":"acme"}"#).status == 201)
        for _ in 0..<3 {
            let proxied = try await harness.request(
                "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
                body: Data(#"{"model":"gpt-5-mini","messages":[{"role":"user","content":"hi"}]}"#.utf8))
            #expect(proxied.status == 200)
        }
        #expect(try await harness.waitForLogs(count: 3).count == 3)
        let before = try await Self.snapshot(harness)
        let cases: [(String, String, String?, String)] = [
            ("DELETE", "/api/v1/accounts/default/logs?modle=nothing", nil, "modle: unknown parameter"),
            ("GET", "/api/v1/accounts/default/logs?modle=nothing", nil, "modle: unknown parameter"),
            ("GET", "/api/v1/accounts/default/usage?form=2020-01-01&interval=day", nil, "form: unknown parameter"),
            ("GET", "/api/v1/accounts/default/reports/monthly?mnth=2020-01", nil, "mnth: unknown parameter"),
            ("PATCH", "/api/v1/accounts/default/gateways/default", #"{"colect_logs": false}"#, "colect_logs: unknown"),
            ("PATCH", "/api/v1/accounts/default", #"{"teir":"paid"}"#, "teir: unknown field"),
            ("DELETE", "/api/v1/accounts/default/logs", nil, "all: deleting every log of the account takes all=true"),
            ("DELETE", "/api/v1/accounts/default/logs?all=false", nil, "all: deleting every log"),
            ("DELETE", "/api/v1/accounts/default/logs?all=true&model=gpt-5-mini", nil, "all: cannot be combined"),
            ("DELETE", "/api/v1/accounts/default/logs?model=", nil, "model: empty value"),
            ("DELETE", "/api/v1/accounts/default/logs?model=a&model=b", nil, "model: given more than once"),
            ("DELETE", "/api/v1/accounts/default/logs?Model=gpt-5-mini", nil, "Model: unknown parameter"),
            ("PATCH", "/api/v1/accounts/default", #"{"tier":"paid","tier":"free"}"#, "tier: given more than once"),
            ("PATCH", "/api/v1/accounts/default", #"{"log_limit":"1000"}"#, "log_limit: expected a whole number"),
            ("PATCH", "/api/v1/accounts/default", #"{"log_limit":-1}"#, "log_limit: expected a whole number"),
            ("PATCH", "/api/v1/accounts/default", #"{"log_limit":1.5}"#, "log_limit: expected a whole number"),
            ("PATCH", "/api/v1/accounts/default/gateways/default", #"{"collect_logs":"false"}"#, "collect_logs"),
            ("PATCH", "/api/v1/accounts/default/gateways/default", #"{"retention_days":0}"#, "retention_days"),
            ("PATCH", "/api/v1/accounts/default/gateways/default", "[]", "body is not a JSON object"),
            ("GET", "/api/v1/accounts/default/usage?group_by=model,model", nil, "group_by: expected"),
            ("GET", "/api/v1/accounts/default/usage?group_by=model,", nil, "group_by: unknown name(s) ''"),
            (
                "POST", "/api/v1/prices",
                #"{"provider":"openai","model":"m","effective_from":"2026-01-01","input":1,"input_above":2}"#,
                "input_above: needs prompt_threshold"
            ),
        ]
        for (method, path, body, message) in cases {
            let response = try await harness.api(method, path, json: body)
            #expect(response.status == 400, "\(method) \(path): \(response.status) \(response.text)")
            #expect(try Self.error(response).message.hasPrefix(message), "\(method) \(path): \(response.text)")
        }
        #expect(try await Self.snapshot(harness) == before)

        // What is declared still works: a filter deletes its logs, `all=true` the rest.
        let patched = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/default", json: #"{"collect_logs":true,"retention_days":7}"#)
        #expect(patched.status == 200)
        #expect(try patched.json()["retention_days"] as? Int == 7)
        let none = try await harness.api("DELETE", "/api/v1/accounts/default/logs?model=gpt-4o")
        #expect(try none.json()["deleted"] as? Int == 0)
        let all = try await harness.api("DELETE", "/api/v1/accounts/default/logs?all=true")
        #expect(try all.json()["deleted"] as? Int == 3)
        #expect(try await harness.waitForLogs(count: 1, timeout: .zero).isEmpty)
        try await harness.stop()
    }

    /// The README's API reference is the declarations' own text, so the two cannot disagree.
    @Test func readmeReferenceIsWrittenFromTheDeclarations() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let begin = "<!-- api-routes:begin (written by `tollgate routes`) -->\n"
        let end = "<!-- api-routes:end -->"
        let start = try #require(text.range(of: begin), "README has no api-routes block")
        let stop = try #require(text.range(of: end, range: start.upperBound..<text.endIndex))
        #expect(
            String(text[start.upperBound..<stop.lowerBound]) == APIRouter.markdownReference(),
            "README's API reference is out of date: run scripts/api-reference.sh")
    }

    /// A prefix parameter takes any key after its prefix, each once, and never shadows a declared name.
    @Test func prefixParametersTakeTheirMembersOnly() throws {
        let route = Route(
            .get, "/api/v1/x", "test",
            query: [.init("model", .text, ""), .prefixed("metadata.", .text, ""), .init("metadata.raw", .boolean, "")])
        let query = try RouteInput.checkQuery(
            [("metadata.user", "alice"), ("metadata.team.name", "ml"), ("model", "m"), ("metadata.raw", "true")],
            route: route)
        #expect(query.prefixedTexts("metadata.") == ["user": "alice", "team.name": "ml"])
        #expect(query.bool("metadata.raw") == true)
        for bad in [[("metadata.", "x")], [("metadata", "x")], [("metadata.raw", "x")], [("modle", "x")]] {
            #expect(throws: APIError.self) { try RouteInput.checkQuery(bad, route: route) }
        }
        #expect(Route.Field.names(route.query) == "model, metadata.<key>, metadata.raw")
    }

    @Test func checkedValuesKeepTheirMeaning() throws {
        let route = Route(
            .get, "/api/v1/x", "test",
            query: [
                .init("n", .integer(1...10), ""), .init("b", .boolean, ""), .init("g", .subset(["a", "b", "c"]), ""),
                .init("p", .price, ""), .init("d", .date, ""),
            ])
        let query = try RouteInput.checkQuery(
            [("n", "10"), ("b", "0"), ("g", "c, a"), ("p", "0.000001"), ("d", "2026-02-01")], route: route)
        #expect(query.integer("n") == 10)
        #expect(query.bool("b") == false)
        #expect(query.names("g") == ["c", "a"])
        #expect(query.price("p")?.picodollars == 1)
        #expect(query.instant("d") == RFC3339.parse("2026-02-01T00:00:00Z"))
        #expect(throws: APIError.self) { try RouteInput.checkQuery([("p", "0.0000001")], route: route) }
        #expect(throws: APIError.self) { try RouteInput.checkQuery([("n", "0x5")], route: route) }

        let patch = Route(
            .patch, "/api/v1/x", "test", body: [.init("days", .integer(1...5), "", nullable: true)])
        let cleared = try RouteInput.checkBody(Array(#"{"days":null}"#.utf8), route: patch)
        #expect(cleared.contains("days") && cleared.integerSetting("days") == .some(nil))
        let absent = try RouteInput.checkBody(Array("{}".utf8), route: patch)
        #expect(!absent.contains("days") && absent.integerSetting("days") == nil)
        #expect(try RouteInput.checkBody(Array(#"{"days":5}"#.utf8), route: patch).integerSetting("days") == 5)
        #expect(throws: APIError.self) { try RouteInput.checkBody(Array(#"{"days":6}"#.utf8), route: patch) }
        #expect(throws: APIError.self) { try RouteInput.checkBody([], route: patch) }
        let bodiless = Route(.post, "/api/v1/y", "test")
        #expect(try RouteInput.checkBody([], route: bodiless).values.isEmpty)
        #expect(try RouteInput.checkBody(Array(" {} ".utf8), route: bodiless).values.isEmpty)
        #expect(throws: APIError.self) { try RouteInput.checkBody(Array("[1]".utf8), route: bodiless) }
    }
}
