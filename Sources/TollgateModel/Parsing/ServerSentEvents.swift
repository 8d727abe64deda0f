#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Splits a captured `text/event-stream` body into the data payloads of its events (WHATWG HTML, "server-sent
/// events": lines end in LF, CR or CRLF; `data:` lines of one event join with LF; a blank line ends an event;
/// lines starting with `:` are comments).
///
/// Single-line data (what every provider sends) is handed out in place, without copying. An event still open
/// at the end of the body is handed out too: a stream cut off mid-way keeps what it had, and a truncated JSON
/// payload then simply fails to parse.
enum ServerSentEvents {
    static func forEachData(
        in bytes: UnsafeBufferPointer<UInt8>, _ body: (UnsafeBufferPointer<UInt8>) -> Void
    ) {
        var single: Range<Int>? = nil
        var joined: [UInt8]? = nil
        var hasData = false

        func dispatch() {
            defer {
                single = nil
                joined = nil
                hasData = false
            }
            guard hasData else { return }
            if let joined {
                joined.withUnsafeBufferPointer { body($0) }
            } else if let single {
                body(UnsafeBufferPointer(rebasing: bytes[single]))
            }
        }

        var i = bytes.startIndex
        let end = bytes.endIndex
        while i < end {
            // One line: [i, lineEnd), then skip its terminator.
            let lineEnd = Self.lineEnd(bytes, from: i)
            var next = lineEnd
            if next < end {
                next += (bytes[next] == 0x0D && next + 1 < end && bytes[next + 1] == 0x0A) ? 2 : 1
            }
            defer { i = next }

            if lineEnd == i {
                dispatch()
                continue
            }
            if bytes[i] == UInt8(ascii: ":") { continue }
            // Field name up to the first colon; the value follows, minus one leading space.
            var colon = i
            while colon < lineEnd, bytes[colon] != UInt8(ascii: ":") { colon += 1 }
            guard colon - i == 4, bytes[i] == UInt8(ascii: "d"), bytes[i + 1] == UInt8(ascii: "a"),
                bytes[i + 2] == UInt8(ascii: "t"), bytes[i + 3] == UInt8(ascii: "a")
            else { continue }
            var valueStart = min(colon + 1, lineEnd)
            if valueStart < lineEnd, bytes[valueStart] == 0x20 { valueStart += 1 }
            let value = valueStart..<lineEnd

            if !hasData {
                single = value
                hasData = true
            } else {
                var buffer = joined ?? single.map { Array(UnsafeBufferPointer(rebasing: bytes[$0])) } ?? []
                joined = nil  // keep `buffer` uniquely referenced so appends do not copy
                buffer.append(0x0A)
                buffer.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[value]))
                joined = buffer
            }
        }
        dispatch()
    }

    /// The index of the first CR or LF at or after `from`, or the end. LF is found with memchr; a CR (rare
    /// outside CRLF) only matters when it comes before that LF.
    private static func lineEnd(_ bytes: UnsafeBufferPointer<UInt8>, from: Int) -> Int {
        guard let base = bytes.baseAddress, from < bytes.endIndex else { return bytes.endIndex }
        let count = bytes.endIndex - from
        var lf = bytes.endIndex
        if let hit = memchr(base + from, 0x0A, count) {
            lf = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        if let cr = memchr(base + from, 0x0D, lf - from) {
            return base.distance(to: cr.assumingMemoryBound(to: UInt8.self))
        }
        return lf
    }
}
