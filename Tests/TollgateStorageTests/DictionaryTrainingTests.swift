import Testing

@testable import TollgateStorage

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
        #expect(training.samples.sizes.allSatisfy { $0 == 1 << 10 })
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
        let dictionary = try ZstdDictionary.train(samples: .init(samples), capacity: 16 << 10, id: 32768)
        #expect(training.saveFailed(dictionary) as Int == 10)
        for _ in 0..<10 { #expect(!training.add(samples[0]) as Bool) }
        #expect(training.add(samples[0]) as Bool)
        #expect(training.unsaved == dictionary)
        #expect(training.samples.isEmpty)
    }
}
