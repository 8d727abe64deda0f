import Testing
import TollgateModel

@testable import TollgateAnalytics

/// `SyntheticTraffic` serves `tollgate generate` and `tollgate-bench store`: the same seed gives the same requests,
/// and full payloads wrap the same requests as small ones.
@Suite struct SyntheticTrafficTests {
    static let start: Int64 = 1_793_491_200_000  // 2026-11-01T00:00:00Z

    static func records(seed: UInt64, payloads: SyntheticTraffic.Payloads, count: Int = 500) -> [LogRecord] {
        var traffic = SyntheticTraffic(
            seed: seed, count: count, start: start, end: start + Int64(count) * 1000, payloads: payloads)
        return (0..<count).map { _ in traffic.next(account: "acme") }
    }

    /// Everything but the id (its low bits are random) and the payloads.
    static func metadata(_ r: LogRecord) -> String {
        "\(r.createdAt) \(r.gateway) \(r.provider) \(r.model ?? "") \(r.path) \(r.statusCode) \(r.success) \(r.stream) "
            + "\(r.durationMicros) \(String(describing: r.ttftMicros)) \(r.usage) \(String(describing: r.error))"
    }

    @Test func theSameSeedGivesTheSameRequestsAndFullPayloadsWrapTheSmallOnes() {
        let small = Self.records(seed: 7, payloads: .small)
        #expect(small.map(Self.metadata) == Self.records(seed: 7, payloads: .small).map(Self.metadata))
        #expect(small.map(\.requestBody) == Self.records(seed: 7, payloads: .small).map(\.requestBody))
        #expect(small.map(Self.metadata) != Self.records(seed: 8, payloads: .small).map(Self.metadata))
        #expect(small.map(Self.metadata) == Self.records(seed: 7, payloads: .full).map(Self.metadata))
        // Metadata only draws no body ids: a sequence of its own, the same for a seed.
        let none = Self.records(seed: 7, payloads: .none)
        #expect(none.map(Self.metadata) == Self.records(seed: 7, payloads: .none).map(Self.metadata))
        #expect(none.first.map(Self.metadata) == small.first.map(Self.metadata))
        // In time order, one a second.
        #expect(small.map(\.createdAt) == small.map(\.createdAt).sorted())
        #expect(small.last!.createdAt < Self.start + 500_000)
    }

    @Test func fullPayloadsAreWholeChatExchangesAndNoneHasNone() throws {
        for record in Self.records(seed: 3, payloads: .full) {
            #expect(record.payloadStored)
            #expect(record.requestHeaders.count == 4 && record.responseHeaders.count == 3)
            _ = try JSONParser.parse(record.requestBody)
            let response = try JSONParser.parse(record.responseBody)
            #expect(record.requestSize == Int64(record.requestBody.count))
            if record.statusCode == 200 {
                #expect(String(decoding: record.responseBody, as: UTF8.self).contains("\"total_tokens\":"))
                #expect(record.responseBody.count > 300)
            } else {
                #expect(response["error"] != nil)
            }
        }
        for record in Self.records(seed: 3, payloads: .none) {
            #expect(!record.payloadStored && record.requestBody.isEmpty && record.requestHeaders.isEmpty)
        }
    }
}
