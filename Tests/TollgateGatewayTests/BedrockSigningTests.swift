import Foundation
import Testing
import TollgateMockProvider
import TollgateModel

@testable import TollgateGateway

/// AWS Bedrock with a key kept by the gateway: stored as an access key, and on a gateway with `authentication` on,
/// a request with no key of its own has the client's SigV4 headers replaced by the gateway's signature over the
/// forwarded request. The mock provider checks that signature with the same secret (403 otherwise), so a 200 here
/// means the gateway's signature verifies.
@Suite(.serialized) struct BedrockSigningTests {
    static let accessKeyID = "AKIASTOREDKEY0009F3C"
    static let secretAccessKey = "STOREDsecret/Key+for/Bedrock0123456789abc"
    static let model = "anthropic.claude-3-haiku-20240307-v1:0"
    static let modelPath = "anthropic.claude-3-haiku-20240307-v1%3A0"

    static func start() async throws -> GatewayHarness {
        var mock = MockProvider.Configuration()
        mock.awsSecretAccessKey = secretAccessKey
        mock.awsAccessKeyID = accessKeyID
        return try await GatewayHarness.start(mockConfiguration: mock)
    }

    /// A client signature made with some other key: the gateway must drop it.
    static let clientSignature = [
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDCLIENTOWN/20261203/us-east-1/bedrock/aws4_request, "
            + "SignedHeaders=host;x-amz-date, Signature=" + String(repeating: "0", count: 64),
        "X-Amz-Date": "20261203T120000Z",
        "X-Amz-Security-Token": "client-session-token",
        "X-Amz-Content-Sha256": String(repeating: "1", count: 64),
    ]

    static func call(
        _ harness: GatewayHarness, gateway: String, operation: String, token: String?, body: String
    ) async throws -> GatewayHarness.HTTPResult {
        var headers = clientSignature.merging(["Content-Type": "application/json"]) { $1 }
        if let token { headers["cf-aig-authorization"] = "Bearer \(token)" }
        return try await harness.request(
            "POST", "/v1/default/\(gateway)/aws-bedrock/bedrock-runtime/us-east-1/model/\(modelPath)/\(operation)",
            headers: headers, body: Data(body.utf8))
    }

    static let converseBody = #"{"messages":[{"role":"user","content":[{"text":"Say hello to Tollgate"}]}]}"#
    static let invokeBody =
        #"{"anthropic_version":"bedrock-2023-05-31","max_tokens":64,"messages":[{"role":"user","content":"Say hello to Tollgate"}]}"#

    @Test func storedAWSKeysAreValidatedAndListedByTheirAccessKeyIDsPreview() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        let path = "/api/v1/accounts/default/provider-keys"
        let refused = [
            #"{"provider":"aws-bedrock","secret":"AKIAEXAMPLEKEY12"}"#,
            #"{"provider":"aws-bedrock","access_key_id":"AKIASTOREDKEY0009F3C","secret_access_key":"x1234567890123456789"}"#,
            #"{"provider":"aws-bedrock","access_key_id":"short","secret_access_key":"x1234567890123456789","region":"us-east-1"}"#,
            #"{"provider":"aws-bedrock","access_key_id":"AKIASTOREDKEY0009F3C","secret_access_key":"x1234567890123456789","region":"us_east"}"#,
            #"{"provider":"openai","secret":"sk-some-openai-key","region":"us-east-1"}"#,
        ]
        for body in refused {
            let answer = try await harness.api("POST", path, json: body)
            #expect(answer.status == 400, "\(body): \(answer.text)")
        }
        let created = try await harness.api(
            "POST", path,
            json: #"{"provider":"aws-bedrock","alias":"prod","access_key_id":"\#(Self.accessKeyID)","#
                + #""secret_access_key":"\#(Self.secretAccessKey)","region":"eu-west-1"}"#)
        #expect(created.status == 201, "\(created.text)")
        #expect(try created.json()["preview"] as? String == "9F3C")
        #expect(!created.text.contains(Self.secretAccessKey))
        let listed = try await harness.api(path)
        #expect(listed.text.contains(#""preview":"9F3C""#))
        #expect(!listed.text.contains(Self.secretAccessKey) && !listed.text.contains(Self.accessKeyID))
    }

    @Test func authenticatedRequestsAreSignedWithTheStoredKeyAndVerifyUpstream() async throws {
        let harness = try await Self.start()
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default").token
        // A test price row (Bedrock has no shipped rows; see PRICES.md): $2 / $8 per 1M tokens, cache reads $0.50.
        try await TemplatedProviderTests().price(harness, provider: "aws-bedrock", model: Self.model)

        // Without a stored key the client's own (here wrong) signature goes upstream and does not verify.
        let unsigned = try await Self.call(
            harness, gateway: "locked", operation: "converse", token: token, body: Self.converseBody)
        #expect(unsigned.status == 403, "\(unsigned.text)")
        #expect(unsigned.headers["x-amzn-errortype"]?.hasPrefix("UnrecognizedClientException") == true)

        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/provider-keys",
            json: #"{"provider":"aws-bedrock","access_key_id":"\#(Self.accessKeyID)","#
                + #""secret_access_key":"\#(Self.secretAccessKey)","region":"eu-west-1"}"#)
        #expect(created.status == 201, "\(created.text)")

        let converse = try await Self.call(
            harness, gateway: "locked", operation: "converse", token: token, body: Self.converseBody)
        #expect(converse.status == 200, "\(converse.text)")
        #expect(converse.headers["x-mock-signature"] == "verified")
        let usage = try #require(try converse.json()["usage"] as? [String: Any])
        #expect(usage["inputTokens"] as? Int == 4)

        let stream = try await Self.call(
            harness, gateway: "locked", operation: "converse-stream", token: token, body: Self.converseBody)
        #expect(stream.status == 200, "\(stream.text)")
        #expect(stream.headers["content-type"] == "application/vnd.amazon.eventstream")
        let decoded = AWSEventStreamDecoder.decode([UInt8](stream.body))
        #expect(decoded.failure == nil)
        #expect(decoded.messages.first?.string(":event-type") == "messageStart")
        #expect(decoded.messages.last?.string(":event-type") == "metadata")

        let invoke = try await Self.call(
            harness, gateway: "locked", operation: "invoke", token: token, body: Self.invokeBody)
        #expect(invoke.status == 200, "\(invoke.text)")
        #expect(try invoke.json()["type"] as? String == "message")
        let invokeStream = try await Self.call(
            harness, gateway: "locked", operation: "invoke-with-response-stream", token: token, body: Self.invokeBody)
        #expect(invokeStream.status == 200, "\(invokeStream.text)")
        let chunks = AWSEventStreamDecoder.decode([UInt8](invokeStream.body))
        #expect(chunks.failure == nil && chunks.messages.allSatisfy { $0.string(":event-type") == "chunk" })

        // A gateway without authentication never signs: the client's signature goes on, and fails upstream.
        let open = try await Self.call(
            harness, gateway: "default", operation: "converse", token: nil, body: Self.converseBody)
        #expect(open.status == 403)

        let logs = try await harness.waitForLogs(query: "&order=asc", count: 6)
        #expect(logs.count == 6)
        let signed = logs.filter { $0["status_code"] as? Int == 200 }
        #expect(signed.count == 4)
        for (log, streams) in zip(signed, [false, true, false, true]) {
            #expect(log["provider"] as? String == "aws-bedrock")
            #expect(log["model"] as? String == Self.model)
            #expect(log["stream"] as? Bool == streams)
            #expect(log["tokens_in"] as? Int == 4)
            #expect(log["tokens_out"] as? Int == 10)
            #expect(CostAccountingTests.picodollars(log["cost"]) == (try TemplatedProviderTests().expectedCost(log)))
        }

        // The stored key opens again after a restart, and still signs.
        try await harness.stop()
        var mock = MockProvider.Configuration()
        mock.awsSecretAccessKey = Self.secretAccessKey
        let restarted = try await GatewayHarness.start(dataDirectory: harness.dataDirectory, mockConfiguration: mock)
        let again = try await Self.call(
            restarted, gateway: "locked", operation: "converse", token: token, body: Self.converseBody)
        #expect(again.status == 200, "\(again.text)")
        #expect(again.headers["x-mock-signature"] == "verified")
        try await restarted.stop()
    }

    /// A chunked upload is signed too: the body is read whole first, hashed, and sent with its length.
    @Test func aChunkedUploadIsSignedOverItsWholeBody() async throws {
        let harness = try await Self.start()
        defer { Task { try? await harness.stop() } }
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default").token
        let stored = try await harness.api(
            "POST", "/api/v1/accounts/default/provider-keys",
            json: #"{"provider":"aws-bedrock","access_key_id":"\#(Self.accessKeyID)","#
                + #""secret_access_key":"\#(Self.secretAccessKey)","region":"us-east-1"}"#)
        #expect(stored.status == 201)
        let body = Self.converseBody
        let split = body.index(body.startIndex, offsetBy: 20)
        let response = try await TestClient.with(port: harness.gatewayPort) { client in
            try await client.sendHead(
                .POST, "/v1/default/locked/aws-bedrock/bedrock-runtime/us-east-1/model/\(Self.modelPath)/converse",
                headers: [
                    ("host", "gateway.test"), ("content-type", "application/json"),
                    ("transfer-encoding", "chunked"), ("cf-aig-authorization", "Bearer \(token)"),
                ])
            try await client.sendBody(String(body[..<split]))
            try await client.sendBody(String(body[split...]))
            try await client.sendEnd()
            return try await client.readResponse()
        }
        #expect(response.status == 200, "\(response.text)")
        #expect(response.header("x-mock-signature") == "verified")
    }

    /// The signed head: the client's SigV4 headers gone, the gateway's over host, date and body hash, for the path's
    /// region (`us-east-1`, not the key's `eu-west-1`) and service `bedrock`.
    @Test func signatureCoversThePathsRegionAndTheExactBody() async throws {
        let upstream = try await TestUpstream { _, responder in
            try await responder.respond(.ok, [("content-type", "application/json")], body: #"{"output":{}}"#)
        }
        defer { Task { await upstream.shutdown() } }
        let harness = try await GatewayHarness.start { configuration in
            configuration.providers = configuration.providers.overriding("aws-bedrock", baseURL: upstream.baseURL)!
        }
        defer { Task { try? await harness.stop() } }
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"locked","authentication":true}"#)
        let token = try await AccountTokenTests.createToken(harness, account: "default").token
        _ = try await harness.api(
            "POST", "/api/v1/accounts/default/provider-keys",
            json: #"{"provider":"aws-bedrock","access_key_id":"\#(Self.accessKeyID)","#
                + #""secret_access_key":"\#(Self.secretAccessKey)","region":"eu-west-1"}"#)
        let answer = try await Self.call(
            harness, gateway: "locked", operation: "converse", token: token, body: Self.converseBody)
        #expect(answer.status == 200)
        let received = try #require(upstream.requests.last)
        let authorization = try #require(received.headers.first(name: "authorization"))
        #expect(authorization.contains("Credential=\(Self.accessKeyID)/"))
        #expect(authorization.contains("/us-east-1/bedrock/aws4_request"))
        #expect(authorization.contains("SignedHeaders=host;x-amz-content-sha256;x-amz-date,"))
        #expect(received.headers["x-amz-security-token"].isEmpty)
        #expect(received.headers["x-amz-date"].count == 1)
        #expect(
            received.headers.first(name: "x-amz-content-sha256") == SigV4.payloadHash(Array(Self.converseBody.utf8)))
        let headers = received.headers.map { (name: $0.name, value: $0.value) }
        try SigV4.verify(
            method: "POST", path: received.uri, query: nil, headers: headers,
            payloadHash: SigV4.payloadHash(Array(Self.converseBody.utf8)),
            credentials: SigV4.Credentials(accessKeyID: Self.accessKeyID, secretAccessKey: Self.secretAccessKey))
    }
}
