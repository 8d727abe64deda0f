import Logging
import Testing
import TollgateGateway
import TollgateModel

/// The queue between proxy and store: bounded, never blocking, drops counted.
@Suite struct IngestQueueTests {
    let logger = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
    let ids = LogIDGenerator()

    func exchange() -> Exchange {
        let id = ids.next()
        return Exchange(
            id: id, startedAt: id.milliseconds, account: "default", gateway: "default", provider: "openai",
            method: "POST", path: "/chat/completions", query: nil, requestHeaders: [], requestBody: [],
            statusCode: 200, responseHeaders: [], responseBody: [], responseSize: 0, requestSize: 0,
            durationMicros: 1, ttftMicros: nil, error: nil)
    }

    @Test func fullQueueDropsAndCountsWithoutBlocking() async {
        let queue = IngestQueue(capacity: 3, logger: logger)
        for _ in 0..<5 { queue.submit(exchange()) }
        #expect(queue.counters == .init(accepted: 3, dropped: 2, queued: 3))
        let batch = await queue.take(max: 10)
        #expect(batch.count == 3)
        queue.submit(exchange())
        #expect(queue.counters == .init(accepted: 4, dropped: 2, queued: 1))
    }

    @Test func takeReturnsInOrderInBatches() async {
        let queue = IngestQueue(capacity: 100, logger: logger)
        let sent = (0..<7).map { _ in exchange() }
        for e in sent { queue.submit(e) }
        let first = await queue.take(max: 4)
        let second = await queue.take(max: 4)
        #expect((first + second).map(\.id) == sent.map(\.id))
        #expect(first.count == 4 && second.count == 3)
    }

    @Test func takeWaitsForSubmitAndCloseDrainsThenEnds() async {
        let queue = IngestQueue(capacity: 10, logger: logger)
        let waiter = Task { await queue.take(max: 10) }
        try? await Task.sleep(for: .milliseconds(20))
        let e = exchange()
        queue.submit(e)
        #expect(await waiter.value.map(\.id) == [e.id])

        queue.submit(exchange())
        queue.close()
        #expect(await queue.take(max: 10).count == 1)  // what was queued before close is still delivered
        #expect(await queue.take(max: 10).isEmpty)  // then the consumer learns it is over
        queue.submit(exchange())
        #expect(queue.counters.dropped == 1)  // after close nothing is accepted
    }
}
