// libFuzzer entry point for `AWSEventStreamDecoder`, built by scripts/fuzz-eventstream.sh together with the
// decoder's sources (not part of the SwiftPM package).
//
// Each input is decoded whole, then again fed in pieces whose sizes come from the input's first byte; the two must
// give the same messages and the same failure. The input is also framed as one message with valid CRCs, so that
// arbitrary header bytes reach the header parser. Address sanitizer and Swift's own checks catch any out-of-bounds
// read or trap; a mismatch traps on purpose.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    var whole = AWSEventStreamDecoder(maxMessageBytes: 1 << 16)
    var wholeMessages: [AWSEventStreamDecoder.Message] = []
    whole.feed(bytes) { wholeMessages.append($0) }

    let step = Int(bytes.first ?? 1) % 13 + 1
    var pieces = AWSEventStreamDecoder(maxMessageBytes: 1 << 16)
    var pieceMessages: [AWSEventStreamDecoder.Message] = []
    var start = 0
    while start < bytes.count {
        let end = min(bytes.count, start + step)
        pieces.feed(Array(bytes[start..<end])) { pieceMessages.append($0) }
        start = end
    }
    precondition(wholeMessages == pieceMessages, "split feeding changed the messages")
    precondition(whole.failure == pieces.failure, "split feeding changed the failure")
    precondition(whole.hasPartialMessage == pieces.hasPartialMessage)
    // What decodes re-encodes to a stream that decodes to the same messages.
    if whole.failure == nil {
        let again = AWSEventStreamDecoder.decode(wholeMessages.flatMap { $0.encoded() })
        precondition(again.failure == nil && again.messages == wholeMessages, "re-encoding changed the messages")
    }
    // Arbitrary header and payload bytes framed with correct lengths and CRCs, so the header parser sees them:
    // the second byte says how many of the rest are headers.
    if bytes.count >= 2 {
        let split = min(Int(bytes[1]), bytes.count - 2)
        let headers = Array(bytes[2..<(2 + split)])
        let payload = Array(bytes[(2 + split)...])
        func be32(_ v: Int) -> [UInt8] {
            [UInt8(v >> 24 & 0xFF), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        var frame = be32(16 + headers.count + payload.count) + be32(headers.count)
        frame += be32(Int(CRC32.checksum(frame)))
        frame += headers + payload
        frame += be32(Int(CRC32.checksum(frame)))
        let decoded = AWSEventStreamDecoder.decode(frame)
        precondition(decoded.failure == nil || decoded.failure == .malformedHeaders, "a framed message failed")
        if decoded.failure == nil {
            precondition(decoded.messages.count == 1 && decoded.messages[0].payload == payload, "payload changed")
        }
    }
    return 0
}
