#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a response's usage and model as its body passes, chunk by chunk, keeping only what the record needs:
/// the same result as `UsageParser.parse` on the whole body, without the body.
///
/// A Bedrock event stream (a body starting with a 0 byte, see `EventStreamUsage`) goes through
/// `AWSEventStreamDecoder`, which holds only the message in progress.
/// A stream (`text/event-stream`, or a body starting with an SSE field) is split into events as they complete;
/// each event is read and dropped, so only the event in progress is held. A JSON body goes through
/// `JSONFieldScanner`, which keeps only the members usage is read from (`usage`, `usageMetadata`, `model`,
/// `modelVersion`, `service_tier`, `x_groq`, Workers AI's `result` and text-generation-inference's `details`).
public struct ResponseUsageScanner: Sendable {
    /// An event larger than this is skipped (no usage event is that large).
    static let maxEventBytes = 1 << 20

    private enum Mode {
        case undecided
        case eventStream
        case json
        /// Bedrock's binary AWS event stream (see `EventStreamUsage`).
        case awsEventStream
    }

    private var mode: Mode
    /// The response said `text/event-stream`.
    private let declaredEventStream: Bool
    private var awsDecoder = EventStreamUsage.decoder()
    private var state = UsageParser.State()
    private static let keys = JSONFieldScanner.keyTable([
        "usage", "usageMetadata", "model", "modelVersion", "service_tier", "x_groq", "result", "details",
    ])

    private var json = JSONFieldScanner(keys: Self.keys)
    /// JSON bytes were fed: the first chunk was looked at whole.
    private var jsonFed = false
    /// Bytes of the event in progress that arrived in earlier chunks.
    private var carry: [UInt8] = []
    /// The event in progress outgrew `maxEventBytes`: skipped until its end.
    private var skipping = false
    private var lineHasBytes = false
    private var afterCR = false

    /// `eventStream`: the response said `text/event-stream`; otherwise its first bytes decide.
    public init(eventStream: Bool) {
        mode = .undecided
        declaredEventStream = eventStream
    }

    /// Reads the next bytes of the body.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        var bytes = bytes
        if mode == .undecided {
            var i = 0
            while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 {
                i += 1
            }
            guard i < bytes.count else { return }
            let first = bytes[i]
            if EventStreamUsage.startsLikeEventStream(first) {
                mode = .awsEventStream
            } else if declaredEventStream {
                mode = .eventStream
            } else {
                mode =
                    first == UInt8(ascii: "d") || first == UInt8(ascii: "e") || first == UInt8(ascii: ":")
                    ? .eventStream : .json
            }
            bytes = UnsafeRawBufferPointer(rebasing: bytes[i...])
        }
        switch mode {
        case .json:
            if !jsonFed {
                jsonFed = true
                // A body that arrives whole in its first chunk (the usual small response) is read in one pass, as
                // `UsageParser` reads it; the scanner reads what follows, or the chunk again when it was not whole.
                if state.parseWholeDocument(bytes.bindMemory(to: UInt8.self)) { return }
            }
            json.feed(bytes, into: &state)
        case .eventStream:
            feedEvents(bytes)
        case .awsEventStream:
            // Moved out for the call, so the callback may change `state`.
            var decoder = AWSEventStreamDecoder(maxMessageBytes: 0)
            swap(&decoder, &awsDecoder)
            decoder.feed(bytes) { state.absorb(eventStreamMessage: $0) }
            swap(&decoder, &awsDecoder)
        case .undecided:
            break
        }
    }

    /// The usage and model of the whole body.
    public mutating func finish() -> ResponseUsage {
        switch mode {
        case .json:
            json.finish(into: &state)
        case .eventStream:
            if !carry.isEmpty && !skipping { readEvent(carry) }
            carry.removeAll()
        case .awsEventStream, .undecided:
            break
        }
        return ResponseUsage(usage: state.reported.normalized(), model: state.model)
    }

    /// Finds the blank lines that end events (LF, CRLF or CR line ends) and reads each completed event. Lines are
    /// found with memchr, not byte by byte: an event is mostly one long `data:` line.
    private mutating func feedEvents(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = bytes.count
        var eventStart = 0
        var i = 0
        while i < count {
            if afterCR {
                // A LF right after a CR ends the same line.
                afterCR = false
                if base[i] == 0x0A {
                    i += 1
                    continue
                }
            }
            let terminator = Self.lineTerminator(base, from: i, to: count)
            if terminator > i { lineHasBytes = true }
            guard terminator < count else { break }
            afterCR = base[terminator] == 0x0D
            i = terminator + 1
            if lineHasBytes {
                lineHasBytes = false
                continue
            }
            // A blank line: the event ends at i.
            let tail = UnsafeRawBufferPointer(rebasing: bytes[eventStart..<i])
            if skipping {
                skipping = false
            } else if carry.isEmpty {
                readEvent(tail)
            } else {
                carry.append(contentsOf: tail)
                readEvent(carry)
            }
            carry.removeAll(keepingCapacity: true)
            eventStart = i
        }
        if eventStart < count && !skipping {
            carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[eventStart..<count]))
            if carry.count > Self.maxEventBytes {
                skipping = true
                carry.removeAll()
            }
        }
    }

    /// The first CR or LF in `base[from..<to]`, or `to`.
    private static func lineTerminator(_ base: UnsafePointer<UInt8>, from: Int, to: Int) -> Int {
        var end = to
        if let lf = memchr(base + from, 0x0A, to - from) {
            end = base.distance(to: lf.assumingMemoryBound(to: UInt8.self))
        }
        if end > from, let cr = memchr(base + from, 0x0D, end - from) {
            return base.distance(to: cr.assumingMemoryBound(to: UInt8.self))
        }
        return end
    }

    private mutating func readEvent(_ event: UnsafeRawBufferPointer) {
        ServerSentEvents.forEachData(in: event.bindMemory(to: UInt8.self)) { state.parseDocument($0) }
    }

    private mutating func readEvent(_ event: [UInt8]) {
        event.withUnsafeBufferPointer { bytes in
            ServerSentEvents.forEachData(in: bytes) { state.parseDocument($0) }
        }
    }
}

extension UsageParser.State: JSONDocumentConsumer {
    mutating func consume(_ document: UnsafeBufferPointer<UInt8>) {
        parseDocument(document)
    }
}
