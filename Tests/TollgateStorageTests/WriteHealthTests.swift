import CSQLite
import Foundation
import Testing

@testable import TollgateStorage

@Suite("Write health: failing, retry schedule, recovery")
struct WriteHealthTests {
    @Test func aFailureStartsAnEpisodeOnceAndTheSameFailureChangesNothing() {
        var health = WriteHealth(initialRetryMillis: 100, maxRetryMillis: 1_000)
        #expect(health.isHealthy)
        #expect(health.failed(.append, reason: "No space left on device", now: 10_000) == .startedFailing)
        #expect(health.failed(.append, reason: "No space left on device", now: 10_100) == .none)
        #expect(health.failed(.sync, reason: "No space left on device", now: 10_300) == .reasonChanged)
        #expect(health.failed(.sync, reason: "Input/output error", now: 10_700) == .reasonChanged)
        let failure = try! #require(health.failure)
        #expect(failure.since == 10_000)
        #expect(failure.attempts == 4)
        #expect(failure.operation == .sync)
        #expect(failure.reason == "Input/output error")
        #expect(!health.isHealthy)
    }

    @Test func retriesBackOffByDoublingUpToTheMaximum() {
        let health = WriteHealth(initialRetryMillis: 250, maxRetryMillis: 5_000)
        #expect(
            (1...8).map { health.delay(afterAttempts: $0) } == [250, 500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000])
    }

    @Test func aRetryIsDueOnlyOnceTheDelayHasPassed() {
        var health = WriteHealth(initialRetryMillis: 250, maxRetryMillis: 5_000)
        #expect(health.isRetryDue(now: 0))
        _ = health.failed(.append, reason: "full", now: 1_000)
        #expect(health.failure?.nextRetryAt == 1_250)
        #expect(!health.isRetryDue(now: 1_249))
        #expect(health.isRetryDue(now: 1_250))
        _ = health.failed(.append, reason: "full", now: 1_250)
        #expect(health.failure?.nextRetryAt == 1_750)
        #expect(!health.isRetryDue(now: 1_700))
        #expect(health.isRetryDue(now: 1_750))
    }

    @Test func aSuccessEndsTheEpisodeOnceAndKeepsTheLastError() {
        var health = WriteHealth()
        #expect(health.succeeded(now: 5) == .none)
        _ = health.failed(.catalogCommit, reason: "database or disk is full", message: "SQLiteError full", now: 1_000)
        _ = health.failed(.catalogCommit, reason: "database or disk is full", now: 3_000)
        #expect(health.succeeded(now: 4_500) == .recovered(failedFor: 3_500, attempts: 2))
        #expect(health.succeeded(now: 4_600) == .none)
        #expect(health.isHealthy)
        #expect(health.isRetryDue(now: 0))
        #expect(health.lastError == .init(operation: .catalogCommit, message: "database or disk is full", at: 3_000))
        // A new failure starts a new episode, counted from 1.
        #expect(health.failed(.append, reason: "full", now: 9_000) == .startedFailing)
        #expect(health.failure?.since == 9_000)
        #expect(health.failure?.attempts == 1)
    }

    @Test func aFullDiskReadsTheSameWhetherTheSegmentOrTheCatalogMetIt() {
        let segment = SegmentError(.io, "pwrite failed", errno: ENOSPC)
        let catalog = SQLiteError(
            code: .library, resultCode: SQLITE_FULL, message: "database or disk is full", sql: nil)
        #expect(LogStore.reason(of: segment) == String(cString: strerror(ENOSPC)))
        #expect(LogStore.reason(of: catalog).hasPrefix(String(cString: strerror(ENOSPC))))
        #expect(LogStore.reason(of: catalog).contains("database or disk is full"))
        let busy = SQLiteError(code: .busy, resultCode: SQLITE_BUSY, message: "database is locked", sql: nil)
        #expect(LogStore.reason(of: busy) == "database is locked")
    }
}
