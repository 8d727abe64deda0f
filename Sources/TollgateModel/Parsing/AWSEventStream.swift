/// Decodes the AWS event stream encoding (`application/vnd.amazon.eventstream`), the binary framing of Bedrock's
/// `ConverseStream` and `InvokeModelWithResponseStream` responses, as the bytes pass: fed chunk by chunk, it holds
/// only the message in progress and hands each complete message to the caller.
///
/// Framing, from AWS's description of the encoding (docs.aws.amazon.com/lexv2/latest/dg/event-stream-encoding.html,
/// the same text as docs.aws.amazon.com/transcribe/latest/dg/event-stream.html), all integers big-endian:
///
///     total length (4) | headers length (4) | prelude CRC (4) | headers | payload | message CRC (4)
///
/// The total length counts the whole message including both lengths and both CRCs (16 bytes of overhead); the
/// prelude CRC covers the first 8 bytes and the message CRC everything before it; both are CRC32 (gzip). Each
/// header is a 1-byte name length, the name, a 1-byte value type and the value: 0 true and 1 false (no value),
/// 2 byte, 3 short, 4 integer, 5 long, 6 byte array and 7 string (2-byte length, then the bytes), 8 timestamp
/// (milliseconds since the epoch, 8 bytes), 9 UUID (16 bytes).
///
/// A message that fails a check stops the decoder for good (`failure`): a corrupt length leaves no way to find the
/// next message, so nothing after it is trusted. A message larger than `maxMessageBytes` stops it too, before any
/// of it is buffered. Every read is bounds-checked: no input traps or reads out of bounds.
public struct AWSEventStreamDecoder: Sendable {
    public enum HeaderValue: Sendable, Equatable {
        case bool(Bool)
        case byte(Int8)
        case short(Int16)
        case integer(Int32)
        case long(Int64)
        case bytes([UInt8])
        case string(String)
        /// Milliseconds since the Unix epoch.
        case timestamp(Int64)
        case uuid([UInt8])
    }

    public struct Header: Sendable, Equatable {
        public var name: String
        public var value: HeaderValue

        public init(_ name: String, _ value: HeaderValue) {
            self.name = name
            self.value = value
        }
    }

    public struct Message: Sendable, Equatable {
        public var headers: [Header]
        public var payload: [UInt8]

        public init(headers: [Header], payload: [UInt8]) {
            self.headers = headers
            self.payload = payload
        }

        /// The first header of that name.
        public func header(_ name: String) -> HeaderValue? {
            headers.first { $0.name == name }?.value
        }

        /// The value of a string header (`:event-type`, `:message-type`, `:content-type`).
        public func string(_ name: String) -> String? {
            if case .string(let value) = header(name) { return value }
            return nil
        }
    }

    public enum Failure: Error, Sendable, Equatable {
        /// The prelude's CRC does not match its lengths.
        case preludeChecksum
        /// The message CRC does not match the message.
        case messageChecksum
        /// A total length under 16 bytes, or a headers length that does not fit in it.
        case invalidLength
        /// A message longer than `maxMessageBytes`.
        case tooLarge
        /// Headers that overrun their section or name an unknown value type.
        case malformedHeaders
    }

    /// 16 bytes of prelude and CRCs around the headers and payload.
    static let overhead = 16
    static let preludeBytes = 12

    /// Tollgate's bound on one message (Bedrock's stream events are a few hundred bytes).
    public static let defaultMaxMessageBytes = 16 << 20

    public let maxMessageBytes: Int
    /// Why decoding stopped; nil while it goes on.
    public private(set) var failure: Failure?
    /// The message in progress.
    private var buffer: [UInt8] = []
    /// The message's total length once its prelude is read; 0 before.
    private var expected = 0

    public init(maxMessageBytes: Int = AWSEventStreamDecoder.defaultMaxMessageBytes) {
        self.maxMessageBytes = max(Self.overhead, maxMessageBytes)
    }

    /// Bytes of an unfinished message are held: a stream that ends here was cut mid-message.
    public var hasPartialMessage: Bool { !buffer.isEmpty }

    /// Reads the next bytes, calling `onMessage` for each message they complete.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ onMessage: (Message) -> Void) {
        var i = 0
        let count = bytes.count
        while i < count, failure == nil {
            if expected == 0 {
                let n = min(Self.preludeBytes - buffer.count, count - i)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)]))
                i += n
                guard buffer.count == Self.preludeBytes else { return }
                readPrelude()
            } else {
                let n = min(expected - buffer.count, count - i)
                buffer.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[i..<(i + n)]))
                i += n
                guard buffer.count == expected else { return }
                if let message = completeMessage() { onMessage(message) }
            }
        }
    }

    public mutating func feed(_ bytes: [UInt8], _ onMessage: (Message) -> Void) {
        bytes.withUnsafeBytes { feed($0, onMessage) }
    }

    /// Decodes a whole body: its messages, and why decoding stopped early (a failure, or a cut mid-message as
    /// `.invalidLength`), if it did.
    public static func decode(_ bytes: [UInt8]) -> (messages: [Message], failure: Failure?) {
        var decoder = AWSEventStreamDecoder()
        var messages: [Message] = []
        decoder.feed(bytes) { messages.append($0) }
        return (messages, decoder.failure ?? (decoder.hasPartialMessage ? .invalidLength : nil))
    }

    private mutating func fail(_ reason: Failure) {
        failure = reason
        buffer = []
        expected = 0
    }

    private mutating func readPrelude() {
        let total = Int(Self.uint32(buffer, 0))
        let headersLength = Int(Self.uint32(buffer, 4))
        let crc = buffer.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<8])) }
        guard crc == Self.uint32(buffer, 8) else { return fail(.preludeChecksum) }
        guard total >= Self.overhead, headersLength <= total - Self.overhead else { return fail(.invalidLength) }
        guard total <= maxMessageBytes else { return fail(.tooLarge) }
        expected = total
        buffer.reserveCapacity(total)
    }

    /// Checks the message CRC, reads the headers and resets for the next message.
    private mutating func completeMessage() -> Message? {
        let total = expected
        let crc = buffer.withUnsafeBytes { CRC32.update(0, UnsafeRawBufferPointer(rebasing: $0[0..<(total - 4)])) }
        guard crc == Self.uint32(buffer, total - 4) else {
            fail(.messageChecksum)
            return nil
        }
        let headersEnd = Self.preludeBytes + Int(Self.uint32(buffer, 4))
        guard let headers = Self.readHeaders(buffer, Self.preludeBytes..<headersEnd) else {
            fail(.malformedHeaders)
            return nil
        }
        let message = Message(headers: headers, payload: Array(buffer[headersEnd..<(total - 4)]))
        // A rare large message does not keep its buffer for the rest of the stream.
        buffer.removeAll(keepingCapacity: buffer.capacity <= 1 << 16)
        expected = 0
        return message
    }

    static func readHeaders(_ b: [UInt8], _ range: Range<Int>) -> [Header]? {
        var headers: [Header] = []
        var p = range.lowerBound
        let end = range.upperBound
        /// The next `n` bytes, if the section has them.
        func take(_ n: Int) -> Range<Int>? {
            guard n >= 0, end - p >= n else { return nil }
            defer { p += n }
            return p..<(p + n)
        }
        while p < end {
            guard let nameLength = take(1).map({ Int(b[$0.lowerBound]) }), let name = take(nameLength),
                let type = take(1).map({ b[$0.lowerBound] })
            else { return nil }
            let value: HeaderValue
            switch type {
            case 0: value = .bool(true)
            case 1: value = .bool(false)
            case 2:
                guard let r = take(1) else { return nil }
                value = .byte(Int8(bitPattern: b[r.lowerBound]))
            case 3:
                guard let r = take(2) else { return nil }
                value = .short(Int16(bitPattern: UInt16(b[r.lowerBound]) << 8 | UInt16(b[r.lowerBound + 1])))
            case 4:
                guard let r = take(4) else { return nil }
                value = .integer(Int32(bitPattern: uint32(b, r.lowerBound)))
            case 5, 8:
                guard let r = take(8) else { return nil }
                let v = Int64(bitPattern: UInt64(uint32(b, r.lowerBound)) << 32 | UInt64(uint32(b, r.lowerBound + 4)))
                value = type == 5 ? .long(v) : .timestamp(v)
            case 6, 7:
                guard let l = take(2) else { return nil }
                guard let r = take(Int(b[l.lowerBound]) << 8 | Int(b[l.lowerBound + 1])) else { return nil }
                value = type == 6 ? .bytes(Array(b[r])) : .string(String(decoding: b[r], as: UTF8.self))
            case 9:
                guard let r = take(16) else { return nil }
                value = .uuid(Array(b[r]))
            default:
                return nil
            }
            headers.append(Header(String(decoding: b[name], as: UTF8.self), value))
        }
        return headers
    }

    @inline(__always)
    static func uint32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
    }
}

extension AWSEventStreamDecoder.Message {
    /// The message in the event stream encoding (for tests and the mock provider). Names and string or byte
    /// values longer than the encoding allows (255 and 65535 bytes) are cut to fit.
    public func encoded() -> [UInt8] {
        var headerBytes: [UInt8] = []
        func append32(_ v: UInt32, to out: inout [UInt8]) {
            out += [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)]
        }
        func append64(_ v: Int64) {
            let u = UInt64(bitPattern: v)
            append32(UInt32(u >> 32), to: &headerBytes)
            append32(UInt32(u & 0xFFFF_FFFF), to: &headerBytes)
        }
        func appendSized(_ bytes: [UInt8]) {
            let cut = bytes.prefix(0xFFFF)
            headerBytes += [UInt8(cut.count >> 8), UInt8(cut.count & 0xFF)]
            headerBytes += cut
        }
        for header in headers {
            let name = Array(header.name.utf8.prefix(255))
            headerBytes.append(UInt8(name.count))
            headerBytes += name
            switch header.value {
            case .bool(let v): headerBytes.append(v ? 0 : 1)
            case .byte(let v): headerBytes += [2, UInt8(bitPattern: v)]
            case .short(let v):
                headerBytes += [3, UInt8(UInt16(bitPattern: v) >> 8), UInt8(UInt16(bitPattern: v) & 0xFF)]
            case .integer(let v):
                headerBytes.append(4)
                append32(UInt32(bitPattern: v), to: &headerBytes)
            case .long(let v):
                headerBytes.append(5)
                append64(v)
            case .bytes(let v):
                headerBytes.append(6)
                appendSized(v)
            case .string(let v):
                headerBytes.append(7)
                appendSized(Array(v.utf8))
            case .timestamp(let v):
                headerBytes.append(8)
                append64(v)
            case .uuid(let v):
                headerBytes.append(9)
                headerBytes += v.prefix(16) + [UInt8](repeating: 0, count: max(0, 16 - v.count))
            }
        }
        var out: [UInt8] = []
        append32(UInt32(AWSEventStreamDecoder.overhead + headerBytes.count + payload.count), to: &out)
        append32(UInt32(headerBytes.count), to: &out)
        append32(CRC32.checksum(out), to: &out)
        out += headerBytes
        out += payload
        append32(CRC32.checksum(out), to: &out)
        return out
    }
}
