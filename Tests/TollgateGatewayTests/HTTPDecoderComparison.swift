import NIOCore
import NIOEmbedded
import NIOHTTP1

@testable import TollgateGateway

/// Feeds the same bytes, cut the same way, to NIOHTTP1's decoder behind NIO's `ByteToMessageHandler` and to
/// Tollgate's behind the `DecodingHandler` the gateway runs it in, each in an `EmbeddedChannel`, then closes the
/// channel (EOF): what came out of each, to compare.
enum HTTPDecoderComparison {
    /// One part as it came out, in a form that compares: body parts next to each other are merged (how a body is cut
    /// into parts follows the reads, not the message).
    enum Event: Equatable, CustomStringConvertible {
        case requestHead(method: String, uri: String, version: String, headers: [String], keepAlive: Bool)
        case responseHead(status: Int, version: String, headers: [String], keepAlive: Bool)
        case body([UInt8])
        case end(trailers: [String]?)

        var description: String {
            switch self {
            case .requestHead(let method, let uri, let version, let headers, let keepAlive):
                "head \(method) \(uri) \(version) \(headers) keepAlive=\(keepAlive)"
            case .responseHead(let status, let version, let headers, let keepAlive):
                "head \(status) \(version) \(headers) keepAlive=\(keepAlive)"
            case .body(let bytes): "body \(String(decoding: bytes, as: UTF8.self).debugDescription)"
            case .end(let trailers): "end \(trailers.map { "\($0)" } ?? "nil")"
            }
        }
    }

    struct Outcome: Equatable, CustomStringConvertible {
        var events: [Event] = []
        /// The first error, if any.
        var error: String?
        /// The error is one Hummingbird answers with 400 (an `HTTPParserError`).
        var parserError = false

        var description: String { "\(events.map(\.description)) error: \(error ?? "none")" }

        /// The same parts and whether an error ended them (which error may differ).
        func matches(_ other: Outcome) -> Bool {
            events == other.events && (error == nil) == (other.error == nil)
        }

        mutating func append(_ event: Event) {
            if case .body(let more) = event, case .body(let bytes) = events.last {
                events[events.count - 1] = .body(bytes + more)
            } else if case .body(let bytes) = event, bytes.isEmpty {
                return
            } else {
                events.append(event)
            }
        }
    }

    static func fields(_ headers: HTTPHeaders) -> [String] {
        headers.map { "\($0.name): \($0.value)" }
    }

    static func run(
        _ handlers: [any ChannelHandler], chunks: [[UInt8]], read: (EmbeddedChannel, inout Outcome) throws -> Void
    ) -> Outcome {
        let channel = EmbeddedChannel()
        var outcome = Outcome()
        do {
            for handler in handlers { try channel.pipeline.syncOperations.addHandler(handler) }
            for chunk in chunks {
                var buffer = channel.allocator.buffer(capacity: chunk.count)
                buffer.writeBytes(chunk)
                defer { try? read(channel, &outcome) }
                try channel.writeInbound(buffer)
            }
            channel.close(promise: nil)
            channel.embeddedEventLoop.run()
            try read(channel, &outcome)
            try channel.throwIfErrorCaught()
        } catch {
            outcome.error = "\(error)"
            outcome.parserError = error is HTTPParserError
            try? read(channel, &outcome)
        }
        return outcome
    }

    static func readRequests(_ channel: EmbeddedChannel, _ outcome: inout Outcome) throws {
        while let part = try channel.readInbound(as: HTTPServerRequestPart.self) {
            switch part {
            case .head(let head):
                outcome.append(
                    .requestHead(
                        method: head.method.rawValue, uri: head.uri, version: "\(head.version)",
                        headers: fields(head.headers), keepAlive: head.isKeepAlive))
            case .body(let bytes): outcome.append(.body(Array(bytes.readableBytesView)))
            case .end(let trailers): outcome.append(.end(trailers: trailers.map(fields)))
            }
        }
    }

    /// Notes, for each response head, whether `ResponseDecoder` reads its body to the close (the connection is
    /// not kept alive then, which NIOHTTP1's head says in its `isKeepAlive`).
    final class EndsAtCloseRecorder: ChannelInboundHandler {
        typealias InboundIn = UpstreamResponsePart
        let decoder: ResponseDecoder
        var heads: [Bool] = []
        var read = 0

        init(_ decoder: ResponseDecoder) { self.decoder = decoder }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            if case .head = unwrapInboundIn(data) { heads.append(decoder.responseEndsAtClose) }
            context.fireChannelRead(data)
        }

        /// Whether the next head read from the channel ends at the close.
        func next() -> Bool {
            defer { read += 1 }
            return read < heads.count && heads[read]
        }
    }

    /// NIOHTTP1's response parts.
    static func readResponses(_ channel: EmbeddedChannel, _ outcome: inout Outcome) throws {
        while let part = try channel.readInbound(as: HTTPClientResponsePart.self) {
            switch part {
            case .head(let head):
                outcome.append(
                    .responseHead(
                        status: Int(head.status.code), version: "\(head.version)", headers: fields(head.headers),
                        keepAlive: head.isKeepAlive))
            case .body(let bytes): outcome.append(.body(Array(bytes.readableBytesView)))
            case .end(let trailers): outcome.append(.end(trailers: trailers.map(fields)))
            }
        }
    }

    /// `ResponseDecoder`'s parts; a head's fields are its strings when the request asked for them (`recordsHeaders`),
    /// else made from its bytes. A head with strings when none were asked for, or without them when they were, is an
    /// error.
    static func readUpstreamResponses(
        _ channel: EmbeddedChannel, _ outcome: inout Outcome, recorder: EndsAtCloseRecorder, recordsHeaders: Bool
    ) throws {
        while let part = try channel.readInbound(as: UpstreamResponsePart.self) {
            switch part {
            case .head(let head):
                guard (head.recorded != nil) == recordsHeaders else {
                    outcome.error = "recorded fields: \(head.recorded != nil), asked for: \(recordsHeaders)"
                    return
                }
                let strings = recordsHeaders ? head.recorded!.pairs : head.fields.strings()
                let endsAtClose = recorder.next()
                outcome.append(
                    .responseHead(
                        status: Int(head.status.code), version: "\(head.version)",
                        headers: strings.map { "\($0.name): \($0.value)" },
                        keepAlive: head.nioHead.isKeepAlive && !endsAtClose))
            case .body(let bytes): outcome.append(.body(Array(bytes.readableBytesView)))
            case .end(let trailers): outcome.append(.end(trailers: trailers.map(fields)))
            }
        }
    }

    static func nioRequests(_ chunks: [[UInt8]], limits: NIOHTTPDecoderLimitConfiguration = .init()) -> Outcome {
        run(
            [ByteToMessageHandler(HTTPRequestDecoder(leftOverBytesStrategy: .dropBytes, limitConfiguration: limits))],
            chunks: chunks, read: readRequests)
    }

    static func tollgateRequests(_ chunks: [[UInt8]], limits: NIOHTTPDecoderLimitConfiguration = .init()) -> Outcome {
        run([RequestDecodingHandler(RequestDecoder(limits: limits))], chunks: chunks, read: readRequests)
    }

    static func nioResponses(_ chunks: [[UInt8]], methods: [HTTPMethod]) -> Outcome {
        let decoder = HTTPResponseDecoder(leftOverBytesStrategy: .fireError)
        for method in methods {
            decoder.write(data: .head(HTTPRequestHead(version: .http1_1, method: method, uri: "/")))
        }
        return run([ByteToMessageHandler(decoder)], chunks: chunks) { channel, outcome in
            try readResponses(channel, &outcome)
        }
    }

    static func tollgateResponses(
        _ chunks: [[UInt8]], methods: [HTTPMethod], recordsHeaders: Bool = true
    ) -> Outcome {
        let decoder = ResponseDecoder()
        for method in methods { decoder.requestStarted(method: method, recordsHeaders: recordsHeaders) }
        let recorder = EndsAtCloseRecorder(decoder)
        return run([ResponseDecodingHandler(decoder), recorder], chunks: chunks) { channel, outcome in
            try readUpstreamResponses(channel, &outcome, recorder: recorder, recordsHeaders: recordsHeaders)
        }
    }

    /// The ways one input is cut: whole, in two at every offset and byte by byte (up to 4 KiB), and in random
    /// chunks (seeded).
    static func cuts(_ bytes: [UInt8], seed: UInt64, randomCuts: Int = 8) -> [[[UInt8]]] {
        var all: [[[UInt8]]] = [[bytes]]
        if bytes.count > 1 && bytes.count <= 4096 {
            for offset in 1..<bytes.count { all.append([Array(bytes[..<offset]), Array(bytes[offset...])]) }
        }
        if bytes.count <= 4096 { all.append(bytes.map { [$0] }) }
        var random = SplitMix(seed: seed)
        for _ in 0..<randomCuts {
            var chunks: [[UInt8]] = []
            var start = 0
            while start < bytes.count {
                let length = 1 + Int(random.next() % UInt64(min(bytes.count - start, bytes.count > 4096 ? 9000 : 40)))
                chunks.append(Array(bytes[start..<start + length]))
                start += length
            }
            all.append(chunks)
        }
        return all
    }

    /// A small seeded generator (SplitMix64), so every run cuts the same way.
    struct SplitMix {
        var state: UInt64
        init(seed: UInt64) { state = seed }
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }
}
