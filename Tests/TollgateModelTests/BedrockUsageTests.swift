import Foundation
import Testing

@testable import TollgateModel

@Suite("Bedrock and Cohere usage")
struct BedrockUsageTests {
    static func event(_ type: String, _ json: String, messageType: String = "event") -> [UInt8] {
        AWSEventStreamDecoder.Message(
            headers: [
                .init(":event-type", .string(type)), .init(":content-type", .string("application/json")),
                .init(":message-type", .string(messageType)),
            ], payload: Array(json.utf8)
        ).encoded()
    }

    @Test func routeNamesTheModelAndTheStreamMode() {
        let route = BedrockUsage.route(path: "/model/anthropic.claude-3-5-haiku-20241022-v1%3A0/converse-stream")
        #expect(route?.modelID == "anthropic.claude-3-5-haiku-20241022-v1:0")
        #expect(route?.operation == .converseStream && route?.operation.streams == true)
        #expect(BedrockUsage.route(path: "/bedrock-runtime/us-east-1/model/m/invoke?x=1")?.operation == .invoke)
        #expect(BedrockUsage.route(path: "/model/m/invoke-with-response-stream")?.operation.streams == true)
        #expect(BedrockUsage.route(path: "/model/m/converse")?.operation.streams == false)
        #expect(BedrockUsage.route(path: "/model/m/unknown") == nil)
        #expect(BedrockUsage.route(path: "/model/%zz/converse") == nil)
        #expect(BedrockUsage.route(path: "/v1/chat/completions") == nil)
    }

    @Test func theCallersModelIdNamesTheRecord() throws {
        let body = try FixtureTests.bytes("bedrock-converse-stream.eventstream")
        let parsed = BedrockUsage.parse(body: body, modelID: "anthropic.claude-3-5-haiku-20241022-v1:0")
        #expect(parsed.model == "anthropic.claude-3-5-haiku-20241022-v1:0")
        #expect(parsed.usage.tokensIn == 1342 && parsed.usage.tokensOut == 14)
    }

    /// A provider with the `.bedrock` API gets the model and the stream mode from the path.
    @Test func aBedrockRecordTakesItsModelFromThePath() throws {
        let providers = ProviderTable([
            Provider(slug: "aws-bedrock", baseURL: "https://bedrock-runtime.us-east-1.amazonaws.com", api: .bedrock)
        ])
        let body = try FixtureTests.bytes("bedrock-converse-stream.eventstream")
        let exchange = Exchange(
            id: LogIDGenerator().next(millisecondsSinceEpoch: 1_764_028_800_000), startedAt: 1_764_028_800_000,
            account: "default", gateway: "default", provider: "aws-bedrock", method: "POST",
            path: "/model/anthropic.claude-3-5-haiku-20241022-v1:0/converse-stream", query: nil, requestHeaders: [],
            requestBody: try FixtureTests.bytes("bedrock-converse-stream.request.json"), statusCode: 200,
            responseHeaders: [Header("Content-Type", "application/vnd.amazon.eventstream")], responseBody: body,
            responseSize: Int64(body.count), requestSize: 0, durationMicros: 1, ttftMicros: 1, error: nil)
        let record = LogRecord(exchange: exchange, providers: providers)
        #expect(record.model == "anthropic.claude-3-5-haiku-20241022-v1:0")
        #expect(record.stream)
        #expect(record.usage.tokensIn == 1342 && record.usage.cachedTokensIn == 1024 && record.usage.tokensOut == 14)
    }

    /// Exceptions in the stream carry no usage; a stream cut mid-message keeps the usage read before the cut.
    @Test func exceptionsAndCutsKeepWhatWasRead() {
        let usage = #"{"usage":{"inputTokens":10,"outputTokens":4,"totalTokens":14},"metrics":{"latencyMs":9}}"#
        let stream =
            Self.event("messageStart", #"{"role":"assistant"}"#) + Self.event("metadata", usage)
            + Self.event(
                "throttlingException", #"{"message":"slow down","usage":{"inputTokens":99}}"#,
                messageType: "exception")
        for size in UsageScannerTests.chunkSizes {
            let scanned = UsageScannerTests.scanResponse(stream, eventStream: false, chunk: size)
            #expect(scanned.usage.tokensIn == 10 && scanned.usage.tokensOut == 4, "\(size)")
        }
        let cut = Array(stream.dropLast(20))
        #expect(UsageParser.parse(body: cut, eventStream: false).usage.tokensIn == 10)
        #expect(UsageScannerTests.scanResponse(cut, eventStream: false, chunk: 3).usage.tokensIn == 10)
    }

    /// A message over the bound stops both readers alike: what came before it counts, nothing after.
    @Test func anOversizedMessageStopsParserAndScannerAlike() {
        let big = String(repeating: "x", count: ResponseUsageScanner.maxEventBytes)
        let stream =
            Self.event("metadata", #"{"usage":{"inputTokens":2,"outputTokens":1}}"#)
            + Self.event("contentBlockDelta", #"{"delta":{"text":"\#(big)"}}"#)
            + Self.event("metadata", #"{"usage":{"inputTokens":50,"outputTokens":60}}"#)
        let parsed = UsageParser.parse(body: stream, eventStream: false)
        #expect(parsed.usage.tokensIn == 2 && parsed.usage.tokensOut == 1)
        #expect(UsageScannerTests.scanResponse(stream, eventStream: false, chunk: 4096) == parsed)
    }

    /// A `chunk` whose `bytes` are not base64 is passed over; the others still count.
    @Test func badChunkBytesArePassedOver() {
        let start = Array(
            #"{"type":"message_start","message":{"model":"claude-3-5-haiku-20241022","usage":{"input_tokens":8,"output_tokens":1}}}"#
                .utf8)
        let delta = Array(#"{"type":"message_delta","usage":{"output_tokens":5}}"#.utf8)
        let stream =
            Self.event("chunk", #"{"bytes":"\#(Data(start).base64EncodedString())"}"#)
            + Self.event("chunk", #"{"bytes":"@@not base64@@"}"#)
            + Self.event("chunk", #"{"bytes":"\#(Data(delta).base64EncodedString())"}"#)
        let parsed = UsageParser.parse(body: stream, eventStream: true)
        #expect(parsed.model == "claude-3-5-haiku-20241022")
        #expect(parsed.usage.tokensIn == 8 && parsed.usage.tokensOut == 5)
        #expect(UsageScannerTests.scanResponse(stream, eventStream: false, chunk: 1) == parsed)
    }

    /// Cohere reports what it bills apart from what the model processed; the billed count is the one kept.
    @Test func cohereBilledUnitsWinOverProcessedTokens() {
        let both = Array(
            #"{"usage":{"tokens":{"input_tokens":71,"output_tokens":418},"billed_units":{"input_tokens":5,"output_tokens":418}}}"#
                .utf8)
        #expect(UsageParser.parse(body: both, eventStream: false).usage.tokensIn == 5)
        let processedOnly = Array(#"{"usage":{"tokens":{"input_tokens":71,"output_tokens":40}}}"#.utf8)
        let usage = UsageParser.parse(body: processedOnly, eventStream: false).usage
        #expect(usage.tokensIn == 71 && usage.tokensOut == 40)
    }
}
