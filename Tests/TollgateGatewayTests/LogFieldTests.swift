import Foundation
import NIOCore
import Testing
import TollgateModel

@testable import TollgateGateway
@testable import TollgateStorage

/// `LogField`, the one declaration of a log's fields: the API's JSON and the export's CSV and NDJSON come out in its
/// order, agree where they share a field, and are the bytes they were when each wrote its fields one by one.
@Suite struct LogFieldTests {
    /// The API's keys as it has always written them.
    static let apiKeys = [
        "id", "created_at", "account", "gateway", "provider", "model", "path", "method", "status_code", "success",
        "stream", "duration_ms", "ttft_ms", "tokens_in", "cached_tokens_in", "cache_write_tokens",
        "cache_write_1h_tokens", "tokens_out", "reasoning_tokens", "service_tier", "cost", "custom_cost",
        "request_size", "response_size", "error", "metadata", "payload_stored", "event_id", "attempt", "step",
        "cached", "saved", "feedback", "score",
    ]
    /// The export's columns as it has always written them.
    static let exportColumns = [
        "id", "created_at", "account", "gateway", "provider", "model", "method", "path", "status_code", "success",
        "stream", "duration_ms", "ttft_ms", "tokens_in", "cached_tokens_in", "cache_write_tokens",
        "cache_write_1h_tokens", "tokens_out", "reasoning_tokens", "service_tier", "cost", "custom_cost", "error",
        "event_id", "attempt", "step", "cached", "saved", "feedback", "score",
    ]

    private static func entries() -> [LogIndexEntry] {
        let generator = LogIDGenerator()
        let texts = ["plain", "a,b", "say \"hi\"", "line\r\nbreak", "café", "back\\slash/", "", "bell\u{07}"]
        return (0..<16).map { i in
            let id = generator.next(millisecondsSinceEpoch: 1_750_000_000_000 + Int64(i) * 3_600_001)
            let text = texts[i % texts.count]
            return LogIndexEntry(
                id: id, createdAt: id.milliseconds, account: "acme", gateway: "g\(i % 3)", provider: "openai",
                model: i % 5 == 4 ? nil : "gpt-4o", method: "POST", path: i % 2 == 0 ? "/chat/completions" : text,
                statusCode: 200 + i, success: i % 2 == 0, stream: i % 3 == 1,
                durationMicros: [0, 1, 999, 1000, 1_234_567, -1500][i % 6], ttftMicros: i % 2 == 0 ? 1_500 : nil,
                usage: Usage(
                    tokensIn: Int64(i), cachedTokensIn: i % 3 == 0 ? nil : 7, cacheWriteTokens: 2,
                    cacheWrite1hTokens: 0, tokensOut: Int64(2 * i), reasoningTokens: i % 2 == 0 ? nil : 4,
                    serviceTier: i % 4 == 2 ? "flex" : nil),
                requestSize: 10, responseSize: 20, error: i % 2 == 1 ? text : nil,
                metadata: i % 3 == 0 ? [MetadataEntry("user", .string(text)), MetadataEntry("n", .number(1.5))] : [],
                payloadStored: i % 4 != 3, cost: i % 7 == 3 ? nil : Int64(i) * 1_234_567, customCost: i % 3 == 0,
                location: RecordLocation(segment: 0, offset: UInt64(i) * 64, length: 64),
                eventID: i % 5 == 2 ? "event-\(i)" : nil, attempt: i % 5 == 2 ? 2 : 1, step: i % 6 == 1 ? 0 : nil,
                cached: i % 8 == 7, saved: i % 8 == 7 ? 42 : nil,
                annotation: i % 4 == 1
                    ? LogAnnotation(feedback: 1, score: 80, metadata: [MetadataEntry("k", .bool(true))]) : nil)
        }
    }

    private static func json(_ entry: LogIndexEntry, _ write: (inout JSONWriter, LogIndexEntry) -> Void) -> String {
        var writer = JSONWriter()
        write(&writer, entry)
        return String(buffer: writer.buffer)
    }

    /// The top-level keys of a JSON object, in order (values hold no braces or brackets but the metadata's).
    private static func keys(_ json: String) throws -> [String] {
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let names = Array(object.keys)
        return names.sorted { json.range(of: "\"\($0)\":")!.lowerBound < json.range(of: "\"\($1)\":")!.lowerBound }
    }

    @Test func apiJSONIsWhatItWasFieldByField() {
        for entry in Self.entries() {
            #expect(Self.json(entry) { $0.logFields($1, closeObject: true) } == Self.json(entry, Self.reference))
        }
    }

    @Test func declaredOrderIsTheAPIKeysTheCSVHeaderAndTheNDJSONKeys() throws {
        #expect(LogField.shown.map(\.name) == Self.apiKeys)
        #expect(LogField.exported.map(\.name) == Self.exportColumns)
        // The export's columns are the API's fields but four, in its order but for the method before the path.
        let shared = Self.apiKeys.filter(Self.exportColumns.contains)
        #expect(
            Set(Self.apiKeys).subtracting(shared) == ["request_size", "response_size", "metadata", "payload_stored"])
        #expect(shared.map { $0 == "path" ? "method" : $0 == "method" ? "path" : $0 } == Self.exportColumns)

        var csv = ExportEncoder(format: .csv)
        csv.appendHeader()
        #expect(
            csv.withBytes { String(decoding: $0, as: UTF8.self) } == Self.exportColumns.joined(separator: ",") + "\r\n")

        for entry in Self.entries() where entry.metadata.isEmpty && entry.annotation?.metadata == nil {
            var ndjson = ExportEncoder(format: .ndjson)
            ndjson.append(entry)
            let line = ndjson.withBytes { String(decoding: $0, as: UTF8.self) }
            #expect(try Self.keys(line) == Self.exportColumns)
            let api = Self.json(entry) { $0.logFields($1, closeObject: true) }
            #expect(try Self.keys(api) == Self.apiKeys)
            // Where they share a field, the same value.
            let exported = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary)
            let shown = try #require(try JSONSerialization.jsonObject(with: Data(api.utf8)) as? NSDictionary)
            for key in Self.exportColumns {
                #expect(exported[key] as? NSObject == shown[key] as? NSObject, "\(key)")
            }
        }
    }

    /// The API's log fields as written before `LogField`, one line per field.
    private static func reference(_ w: inout JSONWriter, _ e: LogIndexEntry) {
        w.beginObject()
        w.key("id"); w.string(e.id.description)
        w.key("created_at"); w.string(RFC3339.format(milliseconds: e.createdAt))
        w.key("account"); w.string(e.account)
        w.key("gateway"); w.string(e.gateway)
        w.key("provider"); w.string(e.provider)
        w.key("model"); w.string(e.model)
        w.key("path"); w.string(e.path)
        w.key("method"); w.string(e.method)
        w.key("status_code"); w.int(e.statusCode)
        w.key("success"); w.bool(e.success)
        w.key("stream"); w.bool(e.stream)
        w.key("duration_ms"); w.millis(fromMicros: e.durationMicros)
        w.key("ttft_ms"); w.millis(fromMicros: e.ttftMicros)
        w.key("tokens_in"); w.int(e.usage.tokensIn)
        w.key("cached_tokens_in"); w.int(e.usage.cachedTokensIn)
        w.key("cache_write_tokens"); w.int(e.usage.cacheWriteTokens)
        w.key("cache_write_1h_tokens"); w.int(e.usage.cacheWrite1hTokens)
        w.key("tokens_out"); w.int(e.usage.tokensOut)
        w.key("reasoning_tokens"); w.int(e.usage.reasoningTokens)
        w.key("service_tier"); w.string(e.usage.serviceTier)
        w.key("cost"); w.usd(picodollars: e.cost.map { Int128($0) })
        w.key("custom_cost"); w.bool(e.customCost)
        w.key("request_size"); w.int(e.requestSize)
        w.key("response_size"); w.int(e.responseSize)
        w.key("error"); w.string(e.error)
        w.key("metadata")
        w.metadata(e.shownMetadata)
        w.key("payload_stored"); w.bool(e.payloadStored)
        w.key("event_id"); w.string(e.effectiveEventID)
        w.key("attempt"); w.int(e.attempt)
        w.key("step"); w.int(e.step.map { Int64($0) })
        w.key("cached"); w.bool(e.cached)
        w.key("saved"); w.usd(picodollars: e.saved.map { Int128($0) })
        w.key("feedback"); w.int(e.annotation?.feedback.map { Int64($0) })
        w.key("score"); w.int(e.annotation?.score.map { Int64($0) })
        w.endObject()
    }
}
