#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The two byte-level edits behind "streams are priced like everything else" for OpenAI-style chat completions:
/// asking the provider for usage on a streaming request (`stream_options.include_usage: true`), and recognising
/// the usage-only chunk that answer adds, so it can be kept from a client that did not ask for it.
///
/// Both read only the top level of the JSON (and `stream_options`), skipping everything else without decoding,
/// and both are total: anything unexpected (not JSON, trailing bytes, odd types, duplicate `stream_options`)
/// means "leave it alone".
public enum StreamUsageOption {
    /// The body to send upstream instead of `body`, or nil to send `body` as it is.
    ///
    /// A body is rewritten when it is a JSON object with `"stream": true` whose `stream_options` does not already
    /// say `"include_usage": true`:
    /// - no `stream_options` (or `null`): `"stream_options":{"include_usage":true}` is added;
    /// - `stream_options` without `include_usage`: `"include_usage":true` is added to it, other keys kept;
    /// - `include_usage` with any other value (`false`, `null`, …): the value becomes `true`.
    ///
    /// Everything else in the body stays byte for byte as the client sent it.
    public static func requestingUsage(_ body: UnsafeBufferPointer<UInt8>) -> [UInt8]? {
        // A body that never spells `stream` asks for no stream, unless an escape spells it (`\u0073tream`): most
        // requests are decided by two searches instead of reading their JSON.
        guard contains(body, "stream") || contains(body, "\\u") else { return nil }
        var reader = JSONReader(body)
        guard reader.peekKind() == .object else { return nil }
        let objectStart = reader.index
        var stream = false
        var optionsSeen = 0
        // Where the edit goes.
        var edit: Edit?
        do throws(JSONReader.Failure) {
            try reader.readObject { r, key throws(JSONReader.Failure) in
                if key == "stream" {
                    stream = try r.readBoolOrSkip() ?? false
                } else if key == "stream_options" {
                    optionsSeen += 1
                    edit = try readOptions(&r)
                } else {
                    try r.skipValue()
                }
            }
            guard reader.isAtEnd() else { return nil }
        } catch {
            return nil
        }
        guard stream, optionsSeen <= 1 else { return nil }
        let change = edit ?? .insert(at: objectStart + 1, #""stream_options":{"include_usage":true},"#)
        var out: [UInt8] = []
        switch change {
        case .keep:
            return nil
        case .insert(let at, let text):
            out.reserveCapacity(body.count + text.utf8CodeUnitCount)
            out.append(contentsOf: body[body.startIndex..<at])
            text.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: body[at..<body.endIndex])
        case .replace(let range, let text):
            out.reserveCapacity(body.count + text.utf8CodeUnitCount)
            out.append(contentsOf: body[body.startIndex..<range.lowerBound])
            text.withUTF8Buffer { out.append(contentsOf: $0) }
            out.append(contentsOf: body[range.upperBound..<body.endIndex])
        }
        return out
    }

    private enum Edit {
        /// The client already asks for usage, or `stream_options` is of a kind the gateway does not touch.
        case keep
        case insert(at: Int, StaticString)
        case replace(Range<Int>, StaticString)
    }

    /// Reads the value of `stream_options` and says what to change in it.
    private static func readOptions(_ r: inout JSONReader) throws(JSONReader.Failure) -> Edit {
        let start = r.index
        switch r.peekKind() {
        case .null:
            try r.skipValue()
            return .replace(start..<r.index, #"{"include_usage":true}"#)
        case .object:
            let open = r.index
            var members = 0
            var usage: Edit?
            try r.readObject { o, key throws(JSONReader.Failure) in
                members += 1
                if key == "include_usage" {
                    let valueStart = o.index
                    var value: Bool?
                    if o.peekKind() == .bool { value = try o.readBool() } else { try o.skipValue() }
                    usage = value == true ? Edit.keep : .replace(valueStart..<o.index, "true")
                } else {
                    try o.skipValue()
                }
            }
            if let usage { return usage }
            return .insert(at: open + 1, members == 0 ? #""include_usage":true"# : #""include_usage":true,"#)
        default:
            try r.skipValue()
            return .keep
        }
    }

    /// Whether one server-sent event (its bytes, blank-line terminator included or not) is the usage-only chunk
    /// of an OpenAI chat completions stream: its data is a JSON object whose `choices` is an empty array and whose
    /// `usage` is an object. Content chunks, `[DONE]`, comments and other providers' events are not.
    public static func isUsageOnlyEvent(_ event: UnsafeBufferPointer<UInt8>) -> Bool {
        var events = 0
        var usageOnly = false
        ServerSentEvents.forEachData(in: event) { data in
            events += 1
            usageOnly = isUsageOnlyChunk(data)
        }
        return events == 1 && usageOnly
    }

    /// Whether a chunk's JSON is `{…, "choices": [], "usage": {…}, …}`.
    static func isUsageOnlyChunk(_ data: UnsafeBufferPointer<UInt8>) -> Bool {
        var reader = JSONReader(data)
        guard reader.peekKind() == .object else { return false }
        var emptyChoices = false
        var usage = false
        do throws(JSONReader.Failure) {
            try reader.readObject { r, key throws(JSONReader.Failure) in
                if key == "choices" {
                    guard r.peekKind() == .array else { return try r.skipValue() }
                    var count = 0
                    try r.readArray { e throws(JSONReader.Failure) in
                        count += 1
                        try e.skipValue()
                    }
                    emptyChoices = count == 0
                } else if key == "usage" {
                    usage = r.peekKind() == .object
                    try r.skipValue()
                } else {
                    try r.skipValue()
                }
            }
            guard reader.isAtEnd() else { return false }
        } catch {
            return false
        }
        return emptyChoices && usage
    }

    /// Whether `bytes` holds `needle`.
    private static func contains(_ bytes: UnsafeBufferPointer<UInt8>, _ needle: StaticString) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let first = Int32(needle.utf8Start.pointee)
        let length = needle.utf8CodeUnitCount
        var from = 0
        while from + length <= bytes.count, let hit = memchr(base + from, first, bytes.count - length + 1 - from) {
            let at = base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
            // The second byte first: a chat's text has an `s` in most words, and a call of `memcmp` for each.
            if length < 2 || base[at + 1] == needle.utf8Start[1] {
                if memcmp(base + at, needle.utf8Start, length) == 0 { return true }
            }
            from = at + 1
        }
        return false
    }
}
