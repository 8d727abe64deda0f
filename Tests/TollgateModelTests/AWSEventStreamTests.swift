import Foundation
import Testing

@testable import TollgateModel

@Suite("AWS event stream")
struct AWSEventStreamTests {
    typealias Decoder = AWSEventStreamDecoder
    typealias Message = AWSEventStreamDecoder.Message

    /// One header of every value type the encoding defines.
    static let everyType: [AWSEventStreamDecoder.Header] = [
        .init("t", .bool(true)), .init("f", .bool(false)), .init("byte", .byte(-7)), .init("short", .short(-1234)),
        .init("int", .integer(-123_456_789)), .init("long", .long(-9_000_000_000_000)),
        .init("bin", .bytes([0, 1, 2, 0xFF])), .init(":event-type", .string("metadata")),
        .init("when", .timestamp(1_764_028_800_000)), .init("id", .uuid(Array(0..<16))),
    ]

    static let messages: [Message] = [
        Message(headers: everyType, payload: Array(#"{"usage":{"inputTokens":3}}"#.utf8)),
        Message(headers: [], payload: []),
        Message(headers: [.init(":message-type", .string("event"))], payload: Array(repeating: 0x41, count: 300)),
    ]

    static func decodeAll(_ bytes: [UInt8], chunk: Int, max: Int = Decoder.defaultMaxMessageBytes) -> (
        [Message], Decoder
    ) {
        var decoder = Decoder(maxMessageBytes: max)
        var out: [Message] = []
        var start = 0
        while start < bytes.count {
            let end = min(bytes.count, start + chunk)
            decoder.feed(Array(bytes[start..<end])) { out.append($0) }
            start = end
        }
        return (out, decoder)
    }

    /// A frame written out byte by byte: total 30, no headers, payload `{"foo": "bar"}`, with the CRCs an
    /// independent encoder gives for it (the `event_stream` Elixir package's documented example,
    /// hex.pm/packages/event_stream). Also the standard CRC-32 check value.
    @Test func handBuiltFrameDecodes() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        let payload = Array(#"{"foo": "bar"}"#.utf8)
        let frame: [UInt8] = [0, 0, 0, 30, 0, 0, 0, 0, 186, 242, 246, 138] + payload + [174, 114, 88, 228]
        let decoded = Decoder.decode(frame)
        #expect(decoded.failure == nil)
        #expect(decoded.messages == [Message(headers: [], payload: payload)])
        #expect(Message(headers: [], payload: payload).encoded() == frame)
    }

    @Test func everyHeaderTypeRoundTrips() {
        let bytes = Self.messages.flatMap { $0.encoded() }
        let decoded = Decoder.decode(bytes)
        #expect(decoded.failure == nil)
        #expect(decoded.messages == Self.messages)
        #expect(decoded.messages[0].string(":event-type") == "metadata")
        #expect(decoded.messages[0].header("when") == .timestamp(1_764_028_800_000))
    }

    /// Fed in pieces of every size down to one byte, the decoder gives the same messages, holding none twice.
    @Test func splitAtEveryByteGivesTheSameMessages() {
        let bytes = Self.messages.flatMap { $0.encoded() }
        for chunk in 1...40 {
            let (messages, decoder) = Self.decodeAll(bytes, chunk: chunk)
            #expect(messages == Self.messages, "chunk \(chunk)")
            #expect(decoder.failure == nil && !decoder.hasPartialMessage)
        }
        // Every single split point of the whole stream into two feeds.
        for cut in 0...bytes.count {
            var decoder = Decoder()
            var out: [Message] = []
            decoder.feed(Array(bytes[..<cut])) { out.append($0) }
            decoder.feed(Array(bytes[cut...])) { out.append($0) }
            #expect(out == Self.messages, "cut at \(cut)")
        }
    }

    @Test func aCorruptPreludeStopsDecoding() {
        var bytes = Self.messages[0].encoded() + Self.messages[1].encoded()
        bytes[2] ^= 0x40  // the total length: the prelude CRC no longer matches
        let decoded = Decoder.decode(bytes)
        #expect(decoded.messages.isEmpty)
        #expect(decoded.failure == .preludeChecksum)
    }

    @Test func aCorruptPayloadFailsTheMessageChecksumAndStops() {
        let first = Self.messages[0].encoded()
        var second = Self.messages[2].encoded()
        second[second.count - 10] ^= 1
        let decoded = Decoder.decode(first + second + Self.messages[1].encoded())
        #expect(decoded.messages == [Self.messages[0]])
        #expect(decoded.failure == .messageChecksum)
        // Fed byte by byte, nothing after the failure is read either.
        let (messages, decoder) = Self.decodeAll(first + second + Self.messages[1].encoded(), chunk: 1)
        #expect(messages == [Self.messages[0]])
        #expect(decoder.failure == .messageChecksum)
    }

    /// Lengths that pass the prelude CRC but cannot be a message: too short, headers longer than the message.
    @Test func impossibleLengthsStopDecoding() {
        for (total, headers) in [(UInt32(15), UInt32(0)), (20, 5), (0, 0), (UInt32.max, UInt32.max)] {
            var frame: [UInt8] = []
            for v in [total, headers] {
                frame += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            }
            let crc = CRC32.checksum(frame)
            frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
            frame += [UInt8](repeating: 0, count: 32)
            let failure = Decoder.decode(frame).failure
            #expect(failure == .invalidLength || failure == .tooLarge, "\(total)/\(headers)")
        }
    }

    @Test func anOversizedMessageStopsBeforeItIsBuffered() {
        let big = Message(headers: [], payload: [UInt8](repeating: 0x20, count: 4096)).encoded()
        let (messages, decoder) = Self.decodeAll(big, chunk: 100, max: 1024)
        #expect(messages.isEmpty)
        #expect(decoder.failure == .tooLarge)
        #expect(!decoder.hasPartialMessage)
    }

    /// Headers whose lengths overrun their section, or with an unknown type, with valid CRCs around them.
    @Test func malformedHeadersStopDecoding() {
        for headers: [UInt8] in [
            [5, 0x61],  // name longer than the section
            [1, 0x61, 7, 0, 9, 0x62],  // string value longer than the section
            [1, 0x61, 10],  // unknown value type
            [1, 0x61, 9, 1, 2],  // UUID cut short
            [1, 0x61],  // no type byte
        ] {
            var frame: [UInt8] = []
            for v in [UInt32(16 + headers.count), UInt32(headers.count)] {
                frame += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
            }
            var crc = CRC32.checksum(frame)
            frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
            frame += headers
            crc = CRC32.checksum(frame)
            frame += [UInt8(crc >> 24), UInt8(crc >> 16 & 0xFF), UInt8(crc >> 8 & 0xFF), UInt8(crc & 0xFF)]
            #expect(Decoder.decode(frame).failure == .malformedHeaders, "\(headers)")
        }
    }

    /// Random bytes and randomly corrupted streams never trap, whatever the feeding.
    @Test func garbageNeverTraps() {
        var rng = SplitMix64(seed: 0xE7E7)
        let good = Self.messages.flatMap { $0.encoded() }
        for round in 0..<400 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(rng.next() % 200)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                bytes = good
                for _ in 0..<Int(rng.next() % 3 + 1) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
            }
            _ = Self.decodeAll(bytes, chunk: Int(rng.next() % 17) + 1, max: 512)
        }
    }

    @Test func base64DecodesChunkBytes() {
        #expect(Base64Decoding.decode("eyJhIjoxfQ==") == Array(#"{"a":1}"#.utf8))
        #expect(Base64Decoding.decode("") == [])
        #expect(Base64Decoding.decode("e!") == nil)
        #expect(Base64Decoding.decode("a=b") == nil)
    }
}
