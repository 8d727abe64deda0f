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
}

@Suite("Dictionary training: sampling in pieces, waiting, retrying")
struct DictionaryTrainingTests {
    func configuration(_ change: (inout SegmentWriter.Configuration) -> Void = { _ in }) -> SegmentWriter.Configuration
    {
        var c = SegmentWriter.Configuration()
        c.dictionarySampleRecords = 100
        c.dictionarySampleBytes = 64 << 10
        c.dictionarySamplePieceBytes = 1 << 10
        c.dictionarySampleBytesPerRecord = 4 << 10
        c.dictionaryRetryAfterRecords = 10
        change(&c)
        return c
    }

    @Test func aShortRecordIsOneSampleAndALongOneIsSpreadPieces() {
        #expect(DictionaryTraining.pieces(count: 0, pieceBytes: 100, maxBytes: 400).isEmpty)
        #expect(DictionaryTraining.pieces(count: 80, pieceBytes: 100, maxBytes: 400) == [0..<80])
        #expect(
            DictionaryTraining.pieces(count: 250, pieceBytes: 100, maxBytes: 400) == [0..<100, 75..<175, 150..<250])
        // 10 pieces' worth, 4 taken: head, tail and two evenly between.
        #expect(
            DictionaryTraining.pieces(count: 1_000, pieceBytes: 100, maxBytes: 400) == [
                0..<100, 300..<400, 600..<700, 900..<1_000,
            ])
        #expect(DictionaryTraining.pieces(count: 1_000, pieceBytes: 100, maxBytes: 150) == [0..<100])
    }

    @Test func longRecordsGiveManySamplesAndTrainingIsDueByBytes() {
        var training = DictionaryTraining(configuration: configuration(), enabled: true)
        let long = [UInt8](repeating: 7, count: 150_000)
        var due = false
        var records = 0
        while !due && records < 100 {
            due = training.add(long)
            records += 1
        }
        #expect(due)
        #expect(records == 16)  // 16 × 4 KiB = 64 KiB
        #expect(training.samples.count == 64)
        #expect(training.samples.allSatisfy { $0.count == 1 << 10 })
    }

    @Test func withTooFewSamplesTrainingWaitsForMore() {
        // Each record is one sample of 40 KiB: the byte budget is met after two, but zstd needs eight samples.
        var training = DictionaryTraining(
            configuration: configuration {
                $0.dictionarySamplePieceBytes = 40 << 10
                $0.dictionarySampleBytesPerRecord = 40 << 10
            }, enabled: true)
        let record = [UInt8](repeating: 1, count: 40 << 10)
        let dueAt = (1...20).first { _ in training.add(record) }
        #expect(dueAt == ZstdDictionary.minimumSamples)
        #expect(training.samples.count == ZstdDictionary.minimumSamples)
    }

    @Test func aFailedTrainingIsRetriedAfterABackoffInRecords() {
        var training = DictionaryTraining(configuration: configuration(), enabled: true)
        let record = [UInt8](repeating: 3, count: 500)
        var dueAt: [Int] = []
        for i in 1...100 where training.add(record) { dueAt.append(i) }
        #expect(dueAt == [100])
        #expect(training.failed() as Int == 10)
        #expect(training.samples.isEmpty)
        // The next 10 records are not sampled, then sampling starts over.
        for _ in 0..<10 { #expect(!training.add(record) as Bool) }
        #expect(training.samples.isEmpty)
        #expect(!training.add(record) as Bool)
        #expect(training.samples.count == 1)
        for _ in 0..<98 { _ = training.add(record) }
        #expect(training.add(record) as Bool)
        #expect(training.failed() as Int == 20)  // doubles
        training.finished()
        #expect(!training.enabled)
        #expect(!training.add(record) as Bool)
    }

    @Test func aDictionaryThatCouldNotBeSavedIsSavedOnTheNextTryWithoutTrainingAgain() throws {
        var training = DictionaryTraining(configuration: configuration(), enabled: true)
        var factory = RecordFactory(seed: 9)
        let samples = (0..<200).map { _ in RecordCodec.encode(factory.record()) }
        let dictionary = try ZstdDictionary.train(samples: samples, capacity: 16 << 10, id: 32768)
        #expect(training.saveFailed(dictionary) as Int == 10)
        for _ in 0..<10 { #expect(!training.add(samples[0]) as Bool) }
        #expect(training.add(samples[0]) as Bool)
        #expect(training.unsaved == dictionary)
        #expect(training.samples.isEmpty)
    }
}
