import NIOCore
import NIOHTTP1

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The byte-level pieces `RequestDecoder` and `ResponseDecoder` share: finding a head's end, reading its header
/// fields (each name and value made a `String` once, the framing headers noted on the way) and reading a body by
/// its framing (a length, chunks, or up to the connection's close).
///
/// The rules are NIOHTTP1's decoder's (llhttp, strict): CRLF line ends, no folded lines, token names, values
/// without control characters but tab (leading whitespace dropped, trailing kept), one `Content-Length` of digits and never beside a `Transfer-Encoding`, chunk
/// sizes in hexadecimal with optional extensions. Malformed input throws the `HTTPParserError` NIOHTTP1 throws for it
/// (or the nearest one), so the pipeline reports it the same way.
enum HTTP1Wire {
    static let cr = UInt8(ascii: "\r")
    static let lf = UInt8(ascii: "\n")
    static let space = UInt8(ascii: " ")
    static let tab = UInt8(ascii: "\t")

    /// The limits of one message's head, as NIOHTTP1's decoder applies `NIOHTTPDecoderLimitConfiguration`: a field's
    /// name, its value and the request target each at most `fieldSize` bytes, all of them together at most
    /// `listSize`, and at most `fieldCount` fields (trailers count too).
    struct Limits {
        var fieldSize: Int
        var listSize: Int
        var fieldCount: Int

        init(_ configuration: NIOHTTPDecoderLimitConfiguration = .init()) {
            fieldSize = configuration.maxHeaderFieldSize
            listSize = configuration.maxHeaderListSize
            fieldCount = configuration.maxHeaderFieldCount
        }

        /// How many bytes an unfinished head may take before it is refused: its fields' bytes at most `listSize`,
        /// with room for the request or status line and each line's separators.
        var unfinishedHeadBound: Int { listSize + 4 * min(fieldCount, 1 << 16) + 8 * 1024 }
    }

    /// What one message's header fields say, besides the fields themselves.
    struct Framing {
        var contentLength: Int?
        var hasTransferEncoding = false
        /// The last transfer coding is `chunked`.
        var chunked = false
        /// A transfer coding follows `chunked` (a request with one is refused before its head is handed on).
        var codingAfterChunked = false
        var connectionClose = false
        var connectionKeepAlive = false
        var connectionUpgrade = false
        var hasUpgrade = false
        /// The message has a `Connection` header.
        var hasConnection = false

        /// Whether the connection stays open after the message (llhttp's `should_keep_alive` before its
        /// `needs_eof` part): HTTP/1.1 unless `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
        func keepAlive(minor: Int) -> Bool {
            minor >= 1 ? !connectionClose : connectionKeepAlive
        }
    }

    /// The running totals of one message's header section (head and trailers), against `Limits`.
    struct Budget {
        var listSize = 0
        var fieldCount = 0
    }

    /// A token byte (RFC 9110: digits, letters and `!#$%&'*+-.^_`|~`), looked up in two 64-bit masks: a header
    /// name's bytes are each tested, and a shift and a mask cost less than the ranges of a switch.
    @inline(__always)
    static func isToken(_ byte: UInt8) -> Bool {
        let low: UInt64 = 0x03FF_6CFA_0000_0000
        let high: UInt64 = 0x57FF_FFFF_C7FF_FFFE
        let mask = byte < 64 ? low : byte < 128 ? high : 0
        return (mask >> UInt64(byte & 63)) & 1 != 0
    }

    /// The end of the run of letters, digits and hyphens from `start`, eight bytes at a time while all eight are,
    /// stopping short of `end`: where a header name's bytes go on to be tested one by one (`isToken`). Names are
    /// mostly such bytes; the eight that hold the colon are tested singly.
    @inline(__always)
    static func commonTokenRun(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int {
        var index = start
        guard let base = bytes.baseAddress else { return index }
        let high = UInt64(0x8080_8080_8080_8080)
        let ones = UInt64(0x0101_0101_0101_0101)
        while end - index >= 8 {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
            // Every byte below 0x80, so that adding to a byte never carries into the next: a byte's top bit in
            // `x &+ n &* ones` says x + n ≥ 0x80.
            guard word & high == 0 else { break }
            let folded = word | (0x20 &* ones)  // a letter's lowercase
            let letter = (folded &+ (0x80 - 0x61) &* ones) & ~(folded &+ (0x7F - 0x7A) &* ones)
            let digit = (word &+ (0x80 - 0x30) &* ones) & ~(word &+ (0x7F - 0x39) &* ones)
            let hyphen = ~((word ^ (0x2D &* ones)) &+ 0x7F &* ones)
            guard (letter | digit | hyphen) & high == high else { break }
            index += 8
        }
        return index
    }

    /// A byte a field value may hold: tab, visible ASCII and space, and bytes from 0x80 (obs-text).
    @inline(__always)
    static func isValueByte(_ byte: UInt8) -> Bool {
        byte == tab || (byte >= 0x20 && byte != 0x7F)
    }

    /// Whether every byte of `bytes[start..<end]` may be in a field value (`isValueByte`): eight bytes at a time
    /// while none of them is below 0x20 or 0x7F, byte by byte from the first eight that may hold one (a tab, or a
    /// byte refused).
    @inline(__always)
    static func valuePlain(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Bool {
        var index = start
        if let base = bytes.baseAddress {
            let low = UInt64(0x2020_2020_2020_2020)
            let high = UInt64(0x8080_8080_8080_8080)
            let delete = UInt64(0x7F7F_7F7F_7F7F_7F7F)
            let ones = UInt64(0x0101_0101_0101_0101)
            while end - index >= 8 {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: index, as: UInt64.self))
                // A byte below 0x20 (with the top bit clear) sets its top bit in `word - low`, and so does a zero
                // byte of `word ^ delete` (a 0x7F) in `x - ones`.
                let below = (word &- low) & ~word & high
                let deleted = ((word ^ delete) &- ones) & ~(word ^ delete) & high
                if below | deleted != 0 { break }
                index += 8
            }
        }
        while index < end {
            guard isValueByte(bytes[index]) else { return false }
            index += 1
        }
        return true
    }

    /// The index just past the empty line that ends a header section starting at `start` (an empty section is its
    /// empty line alone), searching line ends from `from` on (earlier ones were searched already); nil when the
    /// section is not complete in `bytes`.
    static func sectionEnd(_ bytes: UnsafeRawBufferPointer, start: Int, from: Int) -> Int? {
        guard let base = bytes.baseAddress else { return nil }
        let count = bytes.count
        var index = max(from, start)
        while index < count {
            guard let hit = memchr(base + index, Int32(lf), count - index) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if at >= start + 1 && bytes[at - 1] == cr && (at - 1 == start || (at >= start + 2 && bytes[at - 2] == lf)) {
                return at + 1
            }
            index = at + 1
        }
        return nil
    }

    /// The index of the LF ending the line that starts at `start`, before `end`; nil when there is none yet.
    @inline(__always)
    static func lineFeed(_ bytes: UnsafeRawBufferPointer, from start: Int, before end: Int) -> Int? {
        guard start < end, let base = bytes.baseAddress, let hit = memchr(base + start, Int32(lf), end - start) else {
            return nil
        }
        return base.distance(to: UnsafeRawPointer(hit))
    }

    /// Reads the field lines in `bytes[start..<end]` (`end` is the index of the section's final CRLF) into `fields`,
    /// noting the framing headers in `framing` when given (trailers are not looked at for framing).
    static func readFields(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, into fields: inout [(String, String)],
        framing: UnsafeMutablePointer<Framing>?, limits: Limits, budget: inout Budget,
        reusing strings: UnsafeMutablePointer<FieldStrings>? = nil
    ) throws {
        try forEachField(bytes, from: start, to: end, framing: framing, limits: limits, budget: &budget) {
            nameStart, nameEnd, valueStart, valueEnd in
            let name = UnsafeRawBufferPointer(rebasing: bytes[nameStart..<nameEnd])
            let value = UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd])
            if let strings {
                fields.append(strings.pointee.strings(of: fields.count, name: name, value: value))
            } else {
                fields.append((String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self)))
            }
        }
    }

    /// Checks the field lines in `bytes[start..<end]` (`end` is the index of the section's final CRLF) one by one,
    /// counts them against `limits`, notes the framing headers in `framing` when given, and calls `field` with where
    /// each one's name and value are (the value without its leading whitespace).
    @inline(__always)
    static func forEachField(
        _ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, framing: UnsafeMutablePointer<Framing>?,
        limits: Limits, budget: inout Budget,
        _ field: (_ nameStart: Int, _ nameEnd: Int, _ valueStart: Int, _ valueEnd: Int) throws -> Void
    ) throws {
        var line = start
        while line < end {
            guard let feed = lineFeed(bytes, from: line, before: end + 2) else { throw HTTPParserError.lfExpected }
            let lineEnd = feed - 1
            guard lineEnd >= line, bytes[lineEnd] == cr else { throw HTTPParserError.lfExpected }
            // The name: a token, right up to the colon (no folded lines, no space before the colon).
            var index = commonTokenRun(bytes, from: line, to: lineEnd)
            while index < lineEnd && isToken(bytes[index]) { index += 1 }
            guard index > line, index < lineEnd, bytes[index] == UInt8(ascii: ":") else {
                throw HTTPParserError.invalidHeaderToken
            }
            let nameEnd = index
            index += 1
            while index < lineEnd && (bytes[index] == space || bytes[index] == tab) { index += 1 }
            // Leading whitespace is not part of the value; trailing whitespace is (as llhttp reads it).
            let valueStart = index
            let valueEnd = lineEnd
            guard valuePlain(bytes, from: valueStart, to: valueEnd) else { throw HTTPParserError.invalidHeaderToken }
            let nameCount = nameEnd - line
            let valueCount = valueEnd - valueStart
            budget.fieldCount += 1
            budget.listSize += nameCount + valueCount
            if nameCount > limits.fieldSize || valueCount > limits.fieldSize || budget.listSize > limits.listSize
                || budget.fieldCount > limits.fieldCount
            {
                throw HTTPParserError.headerOverflow
            }
            if let framing {
                try note(
                    name: UnsafeRawBufferPointer(rebasing: bytes[line..<nameEnd]),
                    value: UnsafeRawBufferPointer(rebasing: bytes[valueStart..<valueEnd]), in: framing)
            }
            try field(line, nameEnd, valueStart, valueEnd)
            line = feed + 1
        }
    }

    /// The `String`s of the fields of the heads read on a connection, by position, so that a field of the next head
    /// equal to the one last read at its position is the same `String` again rather than a new one: a client sends
    /// much the same headers with each request. (An upstream's response fields are not made strings: the record
    /// packs their bytes, `FieldLines.packed()`.) Comparing the bytes with the kept `String`'s costs a fraction of
    /// making (and later freeing) a `String`. Only bytes are compared, so what is kept never has to be the last
    /// head's exactly.
    struct FieldStrings {
        /// Positions kept, and the longest name or value kept.
        static let maxFields = 64
        static let maxBytes = 1_024

        private var fields: [(String, String)] = []

        init() {}

        /// Field `index` of a head, as strings: those kept at `index` where the bytes are the same.
        mutating func strings(
            of index: Int, name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer
        ) -> (String, String) {
            guard index < Self.maxFields else {
                return (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
            }
            guard index < fields.count else {
                let strings = (String(decoding: name, as: UTF8.self), String(decoding: value, as: UTF8.self))
                if index == fields.count && name.count <= Self.maxBytes && value.count <= Self.maxBytes {
                    fields.append(strings)
                }
                return strings
            }
            if !Self.equal(fields[index].0, name) {
                fields[index].0 = String(decoding: name, as: UTF8.self)
            }
            if !Self.equal(fields[index].1, value) {
                let string = String(decoding: value, as: UTF8.self)
                guard value.count <= Self.maxBytes else { return (fields[index].0, string) }
                fields[index].1 = string
            }
            return fields[index]
        }

        @inline(__always)
        private static func equal(_ string: String, _ bytes: UnsafeRawBufferPointer) -> Bool {
            guard string.utf8.count == bytes.count else { return false }
            guard bytes.count > 0, let base = bytes.baseAddress else { return true }
            return string.utf8.withContiguousStorageIfAvailable { kept in
                memcmp(kept.baseAddress!, base, bytes.count) == 0
            } ?? false
        }
    }

    /// Whether `bytes` equals `lowercase` (ASCII letters compared without case).
    @inline(__always)
    static func equalsIgnoringCase(_ bytes: UnsafeRawBufferPointer, _ lowercase: StaticString) -> Bool {
        guard bytes.count == lowercase.utf8CodeUnitCount else { return false }
        let other = lowercase.utf8Start
        for index in 0..<bytes.count where bytes[index] | 0x20 != other[index] {
            return false
        }
        return true
    }

    private static func note(
        name: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer, in framing: UnsafeMutablePointer<Framing>
    ) throws {
        switch name.count {
        case 14 where equalsIgnoringCase(name, "content-length"):
            guard framing.pointee.contentLength == nil else { throw HTTPParserError.unexpectedContentLength }
            guard !framing.pointee.hasTransferEncoding else { throw HTTPParserError.unexpectedContentLength }
            guard !value.isEmpty else { throw HTTPParserError.invalidContentLength }
            var length = 0
            for byte in value {
                guard byte >= 0x30 && byte <= 0x39 else { throw HTTPParserError.invalidContentLength }
                let (times, overflow1) = length.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(Int(byte - 0x30))
                guard !overflow1 && !overflow2 else { throw HTTPParserError.invalidContentLength }
                length = sum
            }
            framing.pointee.contentLength = length
        case 17 where equalsIgnoringCase(name, "transfer-encoding"):
            guard framing.pointee.contentLength == nil else { throw HTTPParserError.unexpectedContentLength }
            framing.pointee.hasTransferEncoding = true
            forEachToken(value) { token in
                if framing.pointee.chunked { framing.pointee.codingAfterChunked = true }
                framing.pointee.chunked = equalsIgnoringCase(token, "chunked")
            }
        case 10 where equalsIgnoringCase(name, "connection"):
            framing.pointee.hasConnection = true
            forEachToken(value) { token in
                if equalsIgnoringCase(token, "close") {
                    framing.pointee.connectionClose = true
                } else if equalsIgnoringCase(token, "keep-alive") {
                    framing.pointee.connectionKeepAlive = true
                } else if equalsIgnoringCase(token, "upgrade") {
                    framing.pointee.connectionUpgrade = true
                }
            }
        case 7 where equalsIgnoringCase(name, "upgrade"):
            framing.pointee.hasUpgrade = true
        default:
            break
        }
    }

    /// Calls `body` with each comma-separated element of a list value, spaces and tabs trimmed, empty ones too.
    private static func forEachToken(_ value: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer) -> Void) {
        var start = 0
        while start <= value.count {
            var end = start
            while end < value.count && value[end] != UInt8(ascii: ",") { end += 1 }
            var low = start
            var high = end
            while low < high && (value[low] == space || value[low] == tab) { low += 1 }
            while high > low && (value[high - 1] == space || value[high - 1] == tab) { high -= 1 }
            body(UnsafeRawBufferPointer(rebasing: value[low..<high]))
            start = end + 1
        }
    }

    /// `HTTP/1.0` or `HTTP/1.1` at `bytes[start..<start + 8]`: its minor version; throws `invalidVersion` for any
    /// other version (NIOHTTP1 takes HTTP/1 only) and `invalidConstant` for what is not a version at all.
    static func version(_ bytes: UnsafeRawBufferPointer, at start: Int, end: Int) throws -> Int {
        guard end - start >= 8, bytes[start] == UInt8(ascii: "H"), bytes[start + 1] == UInt8(ascii: "T"),
            bytes[start + 2] == UInt8(ascii: "T"), bytes[start + 3] == UInt8(ascii: "P"),
            bytes[start + 4] == UInt8(ascii: "/")
        else { throw HTTPParserError.invalidConstant }
        guard end - start == 8, bytes[start + 5] == UInt8(ascii: "1"), bytes[start + 6] == UInt8(ascii: "."),
            bytes[start + 7] == UInt8(ascii: "0") || bytes[start + 7] == UInt8(ascii: "1")
        else { throw HTTPParserError.invalidVersion }
        return Int(bytes[start + 7] - UInt8(ascii: "0"))
    }
}

/// Reads a message body by its framing, from the bytes after the head, one part at a time.
struct BodyReader {
    enum Framing {
        case length(Int)
        case chunked
        case untilClose
    }

    private enum State {
        case length(remaining: Int)
        /// At a chunk's size line.
        case chunkSize
        case chunkData(remaining: Int)
        /// After a chunk's data: its CRLF.
        case chunkEnd
        /// After the last chunk: the trailer section; `scanned` bytes of it were searched for its end.
        case trailers(scanned: Int)
        case untilClose
    }

    enum Event {
        case body(ByteBuffer)
        case end(HTTPHeaders?)
    }

    private var state: State
    private let limits: HTTP1Wire.Limits
    private var budget: HTTP1Wire.Budget

    init(_ framing: Framing, limits: HTTP1Wire.Limits, budget: HTTP1Wire.Budget) {
        switch framing {
        case .length(let count): state = .length(remaining: count)
        case .chunked: state = .chunkSize
        case .untilClose: state = .untilClose
        }
        self.limits = limits
        self.budget = budget
    }

    /// The body is read up to the connection's close (that ends it rather than cutting it short).
    var endsAtClose: Bool {
        if case .untilClose = state { return true }
        return false
    }

    /// The next body part or the end from `buffer`; nil when more bytes are needed.
    mutating func next(_ buffer: inout ByteBuffer) throws -> Event? {
        while true {
            switch state {
            case .length(let remaining):
                if remaining == 0 { return .end(nil) }
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                state = .length(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .untilClose:
                guard buffer.readableBytes > 0 else { return nil }
                return .body(buffer.readSlice(length: buffer.readableBytes)!)
            case .chunkData(let remaining):
                let count = min(remaining, buffer.readableBytes)
                guard count > 0 else { return nil }
                state = count == remaining ? .chunkEnd : .chunkData(remaining: remaining - count)
                return .body(buffer.readSlice(length: count)!)
            case .chunkEnd:
                guard buffer.readableBytes >= 2 else {
                    if buffer.readableBytes == 1, buffer.readableBytesView.first != HTTP1Wire.cr {
                        throw HTTPParserError.strictModeAssertion
                    }
                    return nil
                }
                let view = buffer.readableBytesView
                guard view.first == HTTP1Wire.cr, view[view.startIndex + 1] == HTTP1Wire.lf else {
                    throw HTTPParserError.strictModeAssertion
                }
                buffer.moveReaderIndex(forwardBy: 2)
                state = .chunkSize
            case .chunkSize:
                guard let size = try readChunkSize(&buffer) else { return nil }
                state = size == 0 ? .trailers(scanned: 0) : .chunkData(remaining: size)
            case .trailers(let scanned):
                let limits = limits
                var budget = budget
                let result = try buffer.withUnsafeReadableBytes { bytes -> (Int, [(String, String)])? in
                    guard let end = HTTP1Wire.sectionEnd(bytes, start: 0, from: scanned) else {
                        guard bytes.count <= limits.unfinishedHeadBound else { throw HTTPParserError.headerOverflow }
                        return nil
                    }
                    var fields: [(String, String)] = []
                    try HTTP1Wire.readFields(
                        bytes, from: 0, to: end - 2, into: &fields, framing: nil, limits: limits, budget: &budget)
                    return (end, fields)
                }
                guard let (end, fields) = result else {
                    state = .trailers(scanned: buffer.readableBytes)
                    return nil
                }
                buffer.moveReaderIndex(forwardBy: end)
                return .end(fields.isEmpty ? nil : HTTPHeaders(fields))
            }
        }
    }

    /// A chunk size line (hexadecimal size, optional extensions, CRLF), consumed; nil when it is not complete.
    private func readChunkSize(_ buffer: inout ByteBuffer) throws -> Int? {
        let limit = limits.fieldSize
        let result = try buffer.withUnsafeReadableBytes { bytes -> (size: Int, consumed: Int)? in
            var index = 0
            var size = 0
            while index < bytes.count, let digit = Self.hexValue(bytes[index]) {
                guard size >> 59 == 0 else { throw HTTPParserError.invalidChunkSize }
                size = size << 4 | digit
                index += 1
            }
            guard index < bytes.count else {
                guard index <= 16 else { throw HTTPParserError.invalidChunkSize }
                return nil
            }
            guard index > 0 else { throw HTTPParserError.invalidChunkSize }
            // Extensions: `;name[=value]`, each up to the line's end; spaces and tabs around them.
            var byte = bytes[index]
            if byte != HTTP1Wire.cr {
                guard byte == UInt8(ascii: ";") || byte == HTTP1Wire.space || byte == HTTP1Wire.tab else {
                    throw HTTPParserError.invalidChunkSize
                }
                while index < bytes.count {
                    byte = bytes[index]
                    if byte == HTTP1Wire.cr { break }
                    guard byte == HTTP1Wire.tab || (byte >= 0x20 && byte != 0x7F) else {
                        throw HTTPParserError.invalidChunkSize
                    }
                    index += 1
                }
                guard index < bytes.count else {
                    guard index <= limit else { throw HTTPParserError.invalidChunkSize }
                    return nil
                }
            }
            guard index + 1 < bytes.count else { return nil }
            guard bytes[index + 1] == HTTP1Wire.lf else { throw HTTPParserError.lfExpected }
            return (size, index + 2)
        }
        guard let result else { return nil }
        buffer.moveReaderIndex(forwardBy: result.consumed)
        return result.size
    }

    @inline(__always)
    private static func hexValue(_ byte: UInt8) -> Int? {
        switch byte {
        case 0x30...0x39: Int(byte - 0x30)
        case 0x41...0x46: Int(byte - 0x41 + 10)
        case 0x61...0x66: Int(byte - 0x61 + 10)
        default: nil
        }
    }
}
