import Foundation
import NIOCore
import NIOHTTP1
import Testing
import TollgateModel

@testable import TollgateGateway

/// An OpenAI-like chat completions stream: a role chunk, content chunks, a finish chunk, the usage-only chunk
/// when the request asked for it (`stream_options.include_usage: true`), then `[DONE]`.
struct FakeChatStream {
    static let content = [
        #"data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"Hello"},"finish_reason":null}]}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" there"},"finish_reason":null}]}"#,
        #"data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
    ].map { $0 + "\n\n" }
    static let usage =
        #"data: {"id":"c1","object":"chat.completion.chunk","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":11,"completion_tokens":2,"total_tokens":13}}"#
        + "\n\n"
    static let done = "data: [DONE]\n\n"

    static let withoutUsage = content.joined() + done
    static let withUsage = content.joined() + usage + done

    /// Whether a request body asks for usage.
    static func asksForUsage(_ body: [UInt8]) -> Bool {
        (try? JSONParser.parse(body))?["stream_options"]?["include_usage"]?.boolValue == true
    }

    /// An upstream answering with this stream; `honorOption: false` never sends usage; `writeSize` splits the
    /// bytes into writes of that many bytes.
    static func upstream(
        honorOption: Bool = true, writeSize: Int? = nil, lineEnd: String = "\n"
    ) async throws -> TestUpstream {
        try await TestUpstream { request, responder in
            var text = honorOption && asksForUsage(request.body) ? withUsage : withoutUsage
            if lineEnd != "\n" { text = text.replacingOccurrences(of: "\n", with: lineEnd) }
            try await responder.head(.ok, [("content-type", "text/event-stream; charset=utf-8")])
            if let writeSize {
                let bytes = Array(text.utf8)
                var i = 0
                while i < bytes.count {
                    let piece = bytes[i..<min(i + writeSize, bytes.count)]
                    try await responder.body(String(decoding: piece, as: UTF8.self))
                    i += writeSize
                }
            } else {
                try await responder.body(text)
            }
            try await responder.end()
        }
    }
}

@Suite("Proxy stream usage")
struct ProxyStreamUsageTests {
    static let streamBody =
        #"{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"Say hello"}]}"#
    static let json = [("content-type", "application/json")]

    func usage(of exchange: Exchange) -> Usage {
        LogRecord(exchange: exchange, providers: .builtIn).usage
    }

    /// Sends one chat request through a test gateway whose OpenAI upstream is `upstream`: the client's response and
    /// the exchange handed to the log sink.
    func chat(
        through upstream: String, body: String = Self.streamBody, headers: [(String, String)] = Self.json,
        entries: [GatewayDirectory.Entry] = [
            GatewayDirectory.Entry(account: TestGateway.account, gateway: TestGateway.gateway)
        ]
    ) async throws -> (response: TestResponse, exchange: Exchange) {
        var result: (TestResponse, Exchange)?
        try await TestGateway.with(upstreams: ["openai": upstream + "/v1"], entries: entries) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(
                    .POST, TestGateway.path("openai", "/chat/completions"), headers: headers, body: body)
            }
            result = (response, try #require(await gateway.sink.wait(for: 1).first))
        }
        return try #require(result)
    }

    @Test func streamWithoutUsageIsPricedAndTheClientSeesNoUsageChunk() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL + "/v1"]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.request(
                    .POST, TestGateway.path("openai", "/chat/completions"), headers: Self.json, body: Self.streamBody)
            }
            #expect(response.status == 200)
            #expect(response.text == FakeChatStream.withoutUsage)
            #expect(!response.text.contains(#""choices":[]"#))

            // Upstream got the option, framed with the new length; everything else as the client sent it.
            let received = try #require(upstream.requests.first)
            #expect(FakeChatStream.asksForUsage(received.body))
            #expect(received.bodyText == #"{"stream_options":{"include_usage":true},"# + Self.streamBody.dropFirst())
            #expect(received.headers.first(name: "content-length") == String(received.body.count))

            // The record has what the client sent and what the upstream answered, so the tokens are known.
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(String(decoding: exchange.requestBody, as: UTF8.self) == Self.streamBody)
            #expect(exchange.requestSize == Int64(Self.streamBody.utf8.count))
            #expect(String(decoding: exchange.responseBody, as: UTF8.self) == FakeChatStream.withUsage)
            #expect(exchange.responseSize == Int64(FakeChatStream.withUsage.utf8.count))
            let tokens = usage(of: exchange)
            #expect(tokens.tokensIn == 11)
            #expect(tokens.tokensOut == 2)
            #expect(exchange.error == nil)
        }
    }

    @Test func clientThatAskedForUsageGetsTheChunkUnchanged() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        let body =
            #"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true},"messages":[]}"#
        let (response, exchange) = try await chat(through: upstream.baseURL, body: body)
        #expect(response.text == FakeChatStream.withUsage)
        #expect(upstream.requests.first?.bodyText == body)
        #expect(usage(of: exchange).tokensIn == 11)
    }

    @Test func includeUsageFalseIsOverriddenAndStillStripped() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        let body = #"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":false}}"#
        let (response, exchange) = try await chat(
            through: upstream.baseURL, body: body, headers: [("Content-Type", "application/json; charset=utf-8")])
        #expect(response.text == FakeChatStream.withoutUsage)
        #expect(
            upstream.requests.first?.bodyText
                == #"{"model":"gpt-4o-mini","stream":true,"stream_options":{"include_usage":true}}"#)
        #expect(usage(of: exchange).tokensOut == 2)
    }

    @Test func settingOffLeavesRequestAndStreamAlone() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        let entries = [
            GatewayDirectory.Entry(account: TestGateway.account, gateway: TestGateway.gateway, streamUsage: false)
        ]
        let (response, exchange) = try await chat(through: upstream.baseURL, entries: entries)
        #expect(response.text == FakeChatStream.withoutUsage)
        #expect(upstream.requests.first?.bodyText == Self.streamBody)
        let tokens = usage(of: exchange)
        #expect(tokens.tokensIn == nil)
        #expect(tokens.tokensOut == nil)
    }

    @Test func upstreamThatIgnoresTheOptionLeavesTheStreamIntactAndTokensUnknown() async throws {
        let upstream = try await FakeChatStream.upstream(honorOption: false)
        defer { Task { await upstream.shutdown() } }
        let (response, exchange) = try await chat(through: upstream.baseURL)
        #expect(response.text == FakeChatStream.withoutUsage)
        #expect(FakeChatStream.asksForUsage(try #require(upstream.requests.first).body))
        #expect(usage(of: exchange).isUnknown)
    }

    @Test(arguments: ["\n", "\r\n", "\r"])
    func oneByteUpstreamWritesAreReassembled(lineEnd: String) async throws {
        let upstream = try await FakeChatStream.upstream(writeSize: 1, lineEnd: lineEnd)
        defer { Task { await upstream.shutdown() } }
        let (response, exchange) = try await chat(through: upstream.baseURL)
        #expect(response.text == FakeChatStream.withoutUsage.replacingOccurrences(of: "\n", with: lineEnd))
        #expect(usage(of: exchange).tokensIn == 11)
    }

    @Test func chunkedClientBodyIsCollectedAndReframed() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL + "/v1"]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.sendHead(
                    .POST, TestGateway.path("openai", "/chat/completions"),
                    headers: Self.json + [("transfer-encoding", "chunked")])
                let text = Self.streamBody
                let middle = text.index(text.startIndex, offsetBy: 20)
                try await client.sendBody(String(text[..<middle]))
                try await client.sendBody(String(text[middle...]))
                try await client.sendEnd()
                return try await client.readResponse()
            }
            #expect(response.text == FakeChatStream.withoutUsage)
            let received = try #require(upstream.requests.first)
            #expect(FakeChatStream.asksForUsage(received.body))
            #expect(received.headers.first(name: "transfer-encoding") == nil)
            #expect(received.headers.first(name: "content-length") == String(received.body.count))
            let exchange = try #require(await gateway.sink.wait(for: 1).first)
            #expect(String(decoding: exchange.requestBody, as: UTF8.self) == Self.streamBody)
        }
    }

    @Test func expectContinueIsNotForwardedWhileTheBodyIsCollected() async throws {
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL + "/v1"]) { gateway in
            let response = try await TestClient.with(port: gateway.port) { client in
                try await client.sendHead(
                    .POST, TestGateway.path("openai", "/chat/completions"),
                    headers: Self.json + [
                        ("expect", "100-continue"), ("content-length", String(Self.streamBody.utf8.count)),
                    ])
                // The test client drops interim responses; the body follows the head a moment later, as a client
                // that got its 100 Continue would send it.
                try await Task.sleep(for: .milliseconds(20))
                try await client.sendBody(Self.streamBody)
                try await client.sendEnd()
                return try await client.readResponse()
            }
            #expect(response.text == FakeChatStream.withoutUsage)
            let received = try #require(upstream.requests.first)
            #expect(received.headers.first(name: "expect") == nil)
            #expect(FakeChatStream.asksForUsage(received.body))
        }
    }

    @Test func nonCandidatesAreForwardedUntouched() async throws {
        // Whatever the request, this upstream answers with a stream that has a usage-only chunk.
        let upstream = try await TestUpstream { _, responder in
            try await responder.head(.ok, [("content-type", "text/event-stream")])
            try await responder.body(FakeChatStream.withUsage)
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        let cases: [(provider: String, path: String, headers: [(String, String)])] = [
            ("anthropic", "/v1/messages", Self.json),  // not an OpenAI chat completions provider
            ("groq", "/chat/completions", Self.json),  // always reports usage itself
            ("openai", "/responses", Self.json),  // the Responses API reports usage anyway
            ("openai", "/chat/completions", [("content-type", "text/plain")]),  // not JSON
        ]
        try await TestGateway.with(upstreams: [
            "openai": upstream.baseURL, "anthropic": upstream.baseURL, "groq": upstream.baseURL,
        ]) {
            gateway in
            for (index, item) in cases.enumerated() {
                let response = try await TestClient.with(port: gateway.port) { client in
                    try await client.request(
                        .POST, TestGateway.path(item.provider, item.path), headers: item.headers, body: Self.streamBody)
                }
                #expect(response.text == FakeChatStream.withUsage, "\(item.provider)\(item.path)")
                #expect(upstream.requests[index].bodyText == Self.streamBody, "\(item.provider)\(item.path)")
            }
        }
    }

    /// Without a log, the bodies are read for model and usage after their bytes were sent on. Responses whole in one
    /// part and in pieces sent apart, one after the other on a kept-alive connection: each record gets its own
    /// request's model and its own response's usage, none of the next one's.
    @Test func bodiesWithoutALogAreReadAfterTheyPassed() async throws {
        let upstream = try await TestUpstream { request, responder in
            let n = Int(request.bodyText.split(separator: "-").last?.prefix { $0.isNumber } ?? "") ?? 0
            let body =
                #"{"id":"c\#(n)","model":"gpt-4o-mini","choices":[{"message":{"content":"hi"}}],"#
                + #""usage":{"prompt_tokens":\#(10 + n),"completion_tokens":\#(n)}}"#
            guard n % 2 == 1 else { return try await responder.respond(.ok, Self.json, body: body) }
            // In three pieces, each flushed on its own: the usage arrives in the last.
            let cut = body.utf8.count / 3
            try await responder.head(.ok, Self.json + [("content-length", String(body.utf8.count))])
            try await responder.body(String(body.prefix(cut)))
            try await responder.body(String(body.dropFirst(cut).prefix(cut)))
            try await responder.body(String(body.dropFirst(2 * cut)))
            try await responder.end()
        }
        defer { Task { await upstream.shutdown() } }
        try await TestGateway.with(upstreams: ["openai": upstream.baseURL + "/v1"]) { gateway in
            try await TestClient.with(port: gateway.port) { client in
                for n in 0..<6 {
                    let response = try await client.request(
                        .POST, TestGateway.path("openai", "/chat/completions"),
                        headers: Self.json + [("cf-aig-collect-log", "false")],
                        body: #"{"model":"model-\#(n)","messages":[]}"#)
                    #expect(response.status == 200)
                    #expect(response.text.contains(#""prompt_tokens":\#(10 + n)"#))
                }
            }
            let exchanges = await gateway.sink.wait(for: 6)
            #expect(exchanges.count == 6)
            for (n, exchange) in exchanges.enumerated() {
                #expect(exchange.logged == false)
                #expect(exchange.requestBody.isEmpty && exchange.responseBody.isEmpty)
                #expect(exchange.requestSummary?.model == "model-\(n)")
                #expect(exchange.responseUsage?.usage.tokensIn == Int64(10 + n), "request \(n)")
                #expect(exchange.responseUsage?.usage.tokensOut == Int64(n), "request \(n)")
            }
        }
    }

    @Test func aRequestWithoutALogIsStillPriced() async throws {
        // No log is kept, but the request counts in usage and costs: its usage is asked for all the same, and the
        // client still sees the stream it asked for.
        let upstream = try await FakeChatStream.upstream()
        defer { Task { await upstream.shutdown() } }
        let (response, exchange) = try await chat(
            through: upstream.baseURL, headers: Self.json + [("cf-aig-collect-log", "false")])
        #expect(response.text == FakeChatStream.withoutUsage)
        #expect(upstream.requests.first.map { FakeChatStream.asksForUsage($0.body) } == true)
        #expect(exchange.logged == false)
        // Neither body is copied: model, stream flag and usage were read as the bytes passed.
        #expect(exchange.requestBody.isEmpty)
        #expect(exchange.responseBody.isEmpty)
        #expect(exchange.requestSummary == RequestSummary(model: "gpt-4o-mini", stream: true))
        #expect(exchange.responseUsage?.usage.tokensIn == 11)
        let record = LogRecord(exchange: exchange, providers: .builtIn)
        #expect(record.model == "gpt-4o-mini")
        #expect(record.stream)
        #expect(record.usage.tokensIn == 11)
    }

    @Test func upstreamContentLengthIsDroppedWhenTheBodyShrinks() async throws {
        let upstream = try await TestUpstream { request, responder in
            let text =
                FakeChatStream.asksForUsage(request.body) ? FakeChatStream.withUsage : FakeChatStream.withoutUsage
            try await responder.respond(.ok, [("content-type", "text/event-stream")], body: text)
        }
        defer { Task { await upstream.shutdown() } }
        let (response, exchange) = try await chat(through: upstream.baseURL)
        #expect(response.text == FakeChatStream.withoutUsage)
        #expect(response.header("content-length") == nil)
        #expect(usage(of: exchange).tokensIn == 11)
    }
}

@Suite("Stream usage filter")
struct StreamUsageFilterTests {
    /// Feeds `text` in pieces of `size` bytes and returns what the filter let through.
    func run(_ text: String, pieces size: Int) -> (output: String, stripped: Bool) {
        var filter = StreamUsageFilter()
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            let piece = ByteBuffer(bytes: bytes[i..<min(i + size, bytes.count)])
            if let through = filter.filter(piece) { out.append(contentsOf: through.readableBytesView) }
            i += size
        }
        if let rest = filter.finish() { out.append(contentsOf: rest.readableBytesView) }
        return (String(decoding: out, as: UTF8.self), filter.stripped)
    }

    @Test func removesExactlyTheUsageEventWhateverTheSplit() {
        for lineEnd in ["\n", "\r\n", "\r"] {
            let input = FakeChatStream.withUsage.replacingOccurrences(of: "\n", with: lineEnd)
            let expected = FakeChatStream.withoutUsage.replacingOccurrences(of: "\n", with: lineEnd)
            for size in [1, 2, 3, 7, 64, 100_000] {
                let result = run(input, pieces: size)
                #expect(result.output == expected, "line end \(lineEnd.debugDescription), pieces of \(size)")
                #expect(result.stripped)
            }
        }
    }

    @Test func passesStreamsWithoutAUsageChunkByteForByte() {
        let comment = ": keep-alive\n\n"
        let input = comment + FakeChatStream.withoutUsage + "data: {\"partial\":"
        for size in [1, 5, 1000] {
            let result = run(input, pieces: size)
            #expect(result.output == input)
            #expect(!result.stripped)
        }
    }

    @Test func forwardsCompleteEventsAtOnceAndHoldsOnlyTheIncompleteOne() {
        var filter = StreamUsageFilter()
        let first = FakeChatStream.content[0]
        let out = filter.filter(ByteBuffer(string: first + "data: {\"choi"))
        #expect(out.map { String(buffer: $0) } == first)
        let next = filter.filter(ByteBuffer(string: "ces\":[]}\n\n"))
        #expect(next.map { String(buffer: $0) } == "data: {\"choices\":[]}\n\n")
    }

    @Test func givesUpOnAnOversizedEvent() {
        var filter = StreamUsageFilter()
        let big = ByteBuffer(repeating: UInt8(ascii: "x"), count: StreamUsageFilter.maxEventBytes + 1)
        let out = filter.filter(big)
        #expect(out?.readableBytes == big.readableBytes)
        #expect(filter.passthrough)
        let usage = ByteBuffer(string: FakeChatStream.usage)
        #expect(filter.filter(usage) == usage)
    }
}

/// The gateway setting through the REST API, and the mock provider's stream through the whole gateway.
@Suite(.serialized) struct StreamUsageEndToEndTests {
    static let body =
        #"{"model":"gpt-5-mini","stream":true,"messages":[{"role":"user","content":"count to three please"}]}"#

    @Test func settingIsStoredServedAndFollowedByTheProxy() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        let created = try await harness.api(
            "POST", "/api/v1/accounts/default/gateways", json: #"{"id":"plain","stream_usage":false}"#)
        #expect(created.status == 201)
        #expect(try created.json()["stream_usage"] as? Bool == false)
        let fresh = try await harness.api("/api/v1/accounts/default/gateways/default").json()
        #expect(fresh["stream_usage"] as? Bool == true)

        // Default gateway: the client sees no usage chunk, the log has the tokens.
        let priced = try await harness.request(
            "POST", "/v1/default/default/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(Self.body.utf8))
        #expect(priced.status == 200)
        #expect(priced.text.hasSuffix("data: [DONE]\n\n"))
        #expect(!priced.text.contains(#""choices":[]"#))
        // Gateway `plain`: the stream passes as the provider sent it, the tokens are unknown.
        let plain = try await harness.request(
            "POST", "/v1/default/plain/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(Self.body.utf8))
        #expect(!plain.text.contains(#""usage""#))
        let logs = try await harness.waitForLogs(query: "&order=asc", count: 2)
        try #require(logs.count == 2)
        #expect((logs[0]["tokens_in"] as? Int ?? 0) > 0)
        #expect((logs[0]["tokens_out"] as? Int ?? 0) > 0)
        #expect(logs[1]["tokens_in"] is NSNull)
        // The log shows the request as the client sent it.
        let logID = try #require(logs[0]["id"] as? String)
        let request = try await harness.api("/api/v1/accounts/default/logs/\(logID)/request")
        #expect(request.text == Self.body)

        // PATCH turns it on for `plain`; the proxy follows at once; the catalog keeps it.
        let patched = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/plain", json: #"{"stream_usage":true}"#)
        #expect(patched.status == 200)
        #expect(try patched.json()["stream_usage"] as? Bool == true)
        #expect(try patched.json()["collect_logs"] as? Bool == true)
        let again = try await harness.request(
            "POST", "/v1/default/plain/openai/chat/completions", headers: ["Content-Type": "application/json"],
            body: Data(Self.body.utf8))
        #expect(!again.text.contains(#""choices":[]"#))
        let all = try await harness.waitForLogs(query: "&order=asc", count: 3)
        try #require(all.count == 3)
        #expect((all[2]["tokens_in"] as? Int ?? 0) > 0)
        let listed = try await harness.api("/api/v1/accounts/default/gateways").json()
        let gateways = try #require(listed["gateways"] as? [[String: Any]])
        #expect(gateways.first { $0["id"] as? String == "plain" }?["stream_usage"] as? Bool == true)

        let missing = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/nope", json: #"{"stream_usage":true}"#)
        #expect(missing.status == 404)
        let bad = try await harness.api(
            "PATCH", "/api/v1/accounts/default/gateways/plain", json: #"{"stream_usage":1}"#)
        #expect(bad.status == 400)
        try await harness.stop()
    }
}
