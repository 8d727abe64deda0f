import NIOCore
import TollgateModel

/// Removes the usage-only chunk from a chat completions stream on its way to a client that did not ask for it
/// (the gateway added `stream_options.include_usage` to the request).
///
/// Bytes go on as they arrive, except the tail of an event not yet ended by its blank line: that is held until
/// the event is complete, since only a whole event can be recognised. The first usage-only event (see
/// `StreamUsageOption.isUsageOnlyEvent`) is cut out; from then on, or once a single event grows past
/// `maxEventBytes`, everything passes through untouched. Events end at a blank line with LF, CRLF or CR line
/// ends (WHATWG server-sent events); a terminator's trailing LF after a CR is carried with the next event, so a
/// cut removes exactly one event's worth of bytes and the framing around it stays intact.
///
/// The recorded exchange keeps the upstream's bytes, usage chunk included; only the client's copy is filtered.
struct StreamUsageFilter {
    /// An event larger than this is passed on unexamined (no usage-only chunk is that large).
    static let maxEventBytes = 1 << 20

    /// Bytes of the event in progress, not yet forwarded.
    private var carry: ByteBuffer?
    /// The line being scanned has at least one byte.
    private var lineHasBytes = false
    /// The last byte scanned was a CR, so an LF now only completes that line break.
    private var afterCR = false
    /// Stripped or gave up: everything passes through.
    private(set) var passthrough = false
    /// Whether the usage-only event was removed.
    private(set) var stripped = false

    /// The bytes to send the client for `input`, or nil when there is nothing to send yet.
    mutating func filter(_ input: ByteBuffer) -> ByteBuffer? {
        if passthrough { return input }
        var work: ByteBuffer
        var scanFrom = 0
        if var held = carry {
            carry = nil
            scanFrom = held.readableBytes
            held.writeImmutableBuffer(input)
            work = held
        } else {
            work = input
        }
        var eventStart = 0
        var cut: Range<Int>?
        let count = work.readableBytes
        work.withUnsafeReadableBytes { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            var i = scanFrom
            while i < count {
                let byte = bytes[i]
                i += 1
                if byte == 0x0A || byte == 0x0D {
                    if byte == 0x0A && afterCR {
                        afterCR = false
                        continue
                    }
                    afterCR = byte == 0x0D
                    if lineHasBytes {
                        lineHasBytes = false
                        continue
                    }
                    // A blank line: the event [eventStart, i) is complete.
                    if StreamUsageOption.isUsageOnlyEvent(UnsafeBufferPointer(rebasing: bytes[eventStart..<i])) {
                        cut = eventStart..<i
                        passthrough = true
                        stripped = true
                        return
                    }
                    eventStart = i
                } else {
                    afterCR = false
                    lineHasBytes = true
                }
            }
        }
        if let cut {
            var out = ByteBufferAllocator().buffer(capacity: count - cut.count)
            if cut.lowerBound > 0, let head = work.getSlice(at: work.readerIndex, length: cut.lowerBound) {
                out.writeImmutableBuffer(head)
            }
            if cut.upperBound < count,
                let tail = work.getSlice(at: work.readerIndex + cut.upperBound, length: count - cut.upperBound)
            {
                out.writeImmutableBuffer(tail)
            }
            return out.readableBytes > 0 ? out : nil
        }
        if count - eventStart > Self.maxEventBytes {
            passthrough = true
            return work
        }
        if eventStart < count {
            carry = work.getSlice(at: work.readerIndex + eventStart, length: count - eventStart)
        }
        guard eventStart > 0 else { return nil }
        return work.getSlice(at: work.readerIndex, length: eventStart)
    }

    /// What is still held when the stream ends (an event without its closing blank line), or nil.
    mutating func finish() -> ByteBuffer? {
        defer { carry = nil }
        guard let carry, carry.readableBytes > 0 else { return nil }
        return carry
    }
}
