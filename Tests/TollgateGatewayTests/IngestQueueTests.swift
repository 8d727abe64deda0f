import Logging
import NIOCore
import NIOPosix
import Testing
import TollgateGateway
import TollgateModel

/// The queue between proxy and store: bounded, never blocking the proxy, drops counted; the store's thread blocks in
/// `take` until exchanges come, its deadline passes or the queue closes.
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

    /// A deadline already past: `take` answers at once.
    let past = NIODeadline.now() - .seconds(1)

    @Test func fullQueueDropsAndCountsWithoutBlocking() {
        let queue = IngestQueue(capacity: 3, logger: logger)
        for _ in 0..<5 { queue.submit(exchange()) }
        #expect(queue.counters == .init(accepted: 3, dropped: 2, queued: 3))
        let batch = queue.take(max: 10, waitingUntil: past)
        #expect(batch?.count == 3)
        queue.submit(exchange())
        #expect(queue.counters == .init(accepted: 4, dropped: 2, queued: 1))
    }

    @Test func takeReturnsInOrderInBatches() {
        let queue = IngestQueue(capacity: 100, logger: logger)
        let sent = (0..<7).map { _ in exchange() }
        for e in sent { queue.submit(e) }
        let first = queue.take(max: 4, waitingUntil: past) ?? []
        let second = queue.take(max: 4, waitingUntil: past) ?? []
        #expect((first + second).map(\.id) == sent.map(\.id))
        #expect(first.count == 4 && second.count == 3)
    }

    /// Exchanges wait in runs of the consumer's batch size: a backlog comes out run by run, in submission order,
    /// and a smaller `max` splits a run without losing or reordering any.
    @Test func aBacklogComesOutInRunsOfTheBatchSize() {
        let queue = IngestQueue(capacity: 100, batchSize: 3, logger: logger)
        let sent = (0..<8).map { _ in exchange() }
        for e in sent { queue.submit(e) }
        #expect(queue.counters.queued == 8)
        var taken: [IngestQueue.Batch] = []
        taken.append(queue.take(max: 3, waitingUntil: past) ?? [])
        taken.append(queue.take(max: 2, waitingUntil: past) ?? [])
        while queue.counters.queued > 0 { taken.append(queue.take(max: 10, waitingUntil: past) ?? []) }
        #expect(taken.map(\.count) == [3, 2, 1, 2])
        #expect(taken.flatMap { $0 }.map(\.id) == sent.map(\.id))
        #expect(queue.counters == .init(accepted: 8, dropped: 0, queued: 0))
    }

    @Test func anEmptyQueueAnswersEmptyAtItsDeadline() {
        let queue = IngestQueue(capacity: 10, logger: logger)
        #expect(queue.take(max: 10, waitingUntil: past)?.isEmpty == true)
        let start = NIODeadline.now()
        #expect(queue.take(max: 10, waitingUntil: start + .milliseconds(30))?.isEmpty == true)
        #expect(NIODeadline.now() - start >= .milliseconds(30))
        // After a wait that timed out, a submit is still taken.
        let e = exchange()
        queue.submit(e)
        #expect(queue.take(max: 10, waitingUntil: past)?.map(\.id) == [e.id])
    }

    @Test func aWaitingTakeWakesForASubmitAndCloseDrainsThenEnds() async throws {
        let queue = IngestQueue(capacity: 10, logger: logger)
        let thread = NIOThreadPool(numberOfThreads: 1)
        thread.start()
        // Blocked on its own thread, with a deadline far off (ten minutes): only the submit can end the wait. The
        // bound checked below is half of that, so a loaded machine that starves this test for a minute still passes.
        let start = NIODeadline.now()
        let waiting = Task { try await thread.runIfActive { queue.take(max: 10, waitingUntil: start + .seconds(600)) } }
        let e = exchange()
        queue.submit(e)
        #expect(try await waiting.value?.map(\.id) == [e.id])

        // Close wakes a waiting take: what was queued is delivered, then nil tells the consumer it is over.
        let drained = Task {
            try await thread.runIfActive {
                var batches: [IngestQueue.Batch?] = []
                repeat {
                    batches.append(queue.take(max: 10, waitingUntil: NIODeadline.now() + .seconds(600)))
                } while batches.last! != nil
                return batches.map { $0?.count }
            }
        }
        queue.submit(exchange())
        queue.close()
        #expect(try await drained.value == [1, nil])
        #expect(NIODeadline.now() - start < .seconds(300))
        queue.submit(exchange())
        #expect(queue.counters.dropped == 1)  // after close nothing is accepted
        try await thread.shutdownGracefully()
    }
}
