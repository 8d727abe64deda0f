import Testing

@testable import TollgateStorage

@Suite("Zstd codec")
struct ZstdTests {
    func samples(_ count: Int) -> [[UInt8]] {
        var factory = RecordFactory(seed: 7)
        return (0..<count).map { _ in RecordCodec.encode(factory.record()) }
    }

    @Test func roundTripWithoutDictionary() throws {
        let compressor = try ZstdCompressor()
        let decompressor = try ZstdDecompressor()
        for input in [[], Array("hello hello hello hello".utf8), samples(3)[2]] {
            let frame = try compressor.compress(input)
            let id = try frame.withUnsafeBytes { try ZstdDecompressor.dictionaryID(ofFrame: $0) }
            #expect(id == 0)
            #expect(try decompressor.decompress(frame) == input)
        }
    }

    /// A frame compressed from pieces, its output taken as it comes, is the content in one frame that declares
    /// its size (the decompressor needs it); pieces that do not add up to the size declared fail, and the
    /// compressor works again after.
    @Test func compressingPiecesAsTheyComeMakesOneFrame() throws {
        let pieces = samples(40)
        let content = pieces.flatMap { $0 }
        let compressor = try ZstdCompressor(level: 3, windowLog: 10)
        var frame: [UInt8] = []
        var outputs = 0
        try compressor.compress(size: content.count) { feed in
            for piece in pieces { try piece.withUnsafeBytes(feed) }
        } output: {
            frame.append(contentsOf: $0)
            outputs += 1
        }
        #expect(outputs >= 1)
        #expect(try ZstdDecompressor().decompress(frame) == content)

        #expect(throws: ZstdError.self) {
            try compressor.compress(size: content.count + 1) { feed in
                for piece in pieces { try piece.withUnsafeBytes(feed) }
            } output: { _ in
            }
        }
        let again = try compressor.compress(content)
        #expect(try ZstdDecompressor().decompress(again) == content)
    }

    @Test func levelIsConfigurable() throws {
        let input = samples(20).flatMap { $0 }
        let fast = try ZstdCompressor(level: 1).compress(input)
        let strong = try ZstdCompressor(level: 19).compress(input)
        #expect(strong.count < fast.count)
        #expect(try ZstdDecompressor().decompress(strong) == input)
    }

    @Test func trainedDictionaryCarriesItsIDAndCompressesBetter() throws {
        let training = samples(400)
        let dictionary = try ZstdDictionary.train(samples: .init(training), capacity: 32 * 1024, id: 40_000)
        #expect(dictionary.id == 40_000)
        #expect(dictionary.bytes.count <= 32 * 1024)
        #expect(try ZstdDictionary(bytes: dictionary.bytes) == dictionary)

        let probe = samples(410).suffix(10)
        let plain = try ZstdCompressor()
        let withDictionary = try ZstdCompressor(dictionary: dictionary)
        let decompressor = try ZstdDecompressor()
        try decompressor.add(dictionary)
        var plainBytes = 0
        var dictBytes = 0
        for input in probe {
            let frame = try withDictionary.compress(input)
            #expect(try frame.withUnsafeBytes { try ZstdDecompressor.dictionaryID(ofFrame: $0) } == 40_000)
            #expect(try decompressor.decompress(frame) == input)
            plainBytes += try plain.compress(input).count
            dictBytes += frame.count
        }
        #expect(dictBytes * 3 < plainBytes * 2, "dictionary: \(dictBytes) bytes, plain: \(plainBytes)")
    }

    @Test func frameNamingAnUnknownDictionaryFails() throws {
        let dictionary = try ZstdDictionary.train(samples: .init(samples(300)), capacity: 16 * 1024, id: 32_800)
        let frame = try ZstdCompressor(dictionary: dictionary).compress(samples(1)[0])
        #expect {
            try ZstdDecompressor().decompress(frame)
        } throws: { ($0 as? ZstdError)?.code == .missingDictionary }
    }

    @Test func corruptFrameFailsInsteadOfReturningGarbage() throws {
        let input = samples(1)[0]
        var frame = try ZstdCompressor(contentChecksum: true).compress(input)
        frame[frame.count / 2] ^= 0xFF
        #expect(throws: ZstdError.self) { try ZstdDecompressor().decompress(frame) }
        #expect(throws: ZstdError.self) { try ZstdDecompressor().decompress(Array("not zstd".utf8)) }
        // Declared content size over the limit is refused before allocating.
        let good = try ZstdCompressor().compress(input)
        #expect(throws: ZstdError.self) {
            try good.withUnsafeBytes { try ZstdDecompressor().decompress($0, maxContentSize: 10) }
        }
    }

    @Test func trainingRejectsTooFewSamples() {
        #expect { try ZstdDictionary.train(samples: .init([[1, 2, 3]]), id: 32_768) } throws: {
            ($0 as? ZstdError)?.code == .trainingFailed
        }
        #expect(throws: ZstdError.self) { try ZstdDictionary(bytes: Array("no dictionary".utf8)) }
    }
}
