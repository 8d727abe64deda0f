/// Picks a few top-level members out of JSON text fed in chunks of any size, keeping only their bytes.
///
/// The text is one object (one document) or an array of objects (one document each, e.g. Gemini's stream chunks
/// without `alt=sse`). For each document, the members whose key is in `keys` are kept as written, and when the
/// document closes they are handed out as a small object of their own — `{"model":"…","usage":{…}}` — for
/// `JSONReader` to read. Everything else is only looked at, one byte at a time, and not kept: a 20 MB prompt costs
/// no memory. A member larger than `maxMemberBytes` is dropped. A document still open when the text ends is handed
/// out by `finish` with the members completed so far (a cut response keeps what it had).
struct JSONFieldScanner: Sendable {
    static let maxMemberBytes = 1 << 16

    /// Keys longer than this are never wanted.
    static let maxKeyBytes = 32

    /// The keys wanted, as bytes (shared: a scanner allocates only its one output buffer).
    private let keys: [[UInt8]]
    /// Open containers; 0 outside the top-level value.
    private var depth = 0
    /// Depth inside a document's object where its members sit: 1 for a top-level object, 2 in a top-level array.
    private var memberDepth = 0
    private var inString = false
    private var escaped = false
    /// At member level, the next string is a key.
    private var expectingKey = false
    /// A key is being read into `document`, after `"`.
    private var readingKey = false
    /// `document` ends with a key not yet known to be wanted (decided at its colon).
    private var pendingKey = false
    private var keyOverflow = false
    /// The member being kept: its value goes into `document` as it passes.
    private var capturing = false
    /// Where the member in progress starts in `document`, to take it back out.
    private var memberStart = 0
    /// The kept members of the document in progress, as `{"key":value,` text: the one buffer, reused.
    private var document: [UInt8] = []
    private var documentOpen = false
    /// The text is not JSON of the expected shape: the rest is ignored.
    private var gaveUp = false

    /// `keys`: the wanted keys as bytes, e.g. from `Self.keyTable(_:)` kept in a `static let`.
    init(keys: [[UInt8]]) {
        self.keys = keys
    }

    /// Keys as the scanner compares them.
    static func keyTable(_ keys: [StaticString]) -> [[UInt8]] {
        keys.map { key in Array(UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)) }
    }

    /// Scans the next bytes; `consumer` is handed each completed document's kept members.
    ///
    /// Inside strings, bytes are skipped in a tight loop up to the next quote or backslash; a kept value is copied
    /// in slices, not byte by byte.
    mutating func feed<Consumer: JSONDocumentConsumer>(_ bytes: UnsafeRawBufferPointer, into consumer: inout Consumer) {
        guard !gaveUp, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        let count = bytes.count
        var i = 0
        // Where the kept value's bytes start in this chunk.
        var captureFrom = 0
        while i < count {
            if inString {
                if escaped {
                    escaped = false
                    if readingKey { keyOverflow = true }
                    i += 1
                    continue
                }
                var j = i
                while j < count {
                    let byte = base[j]
                    if byte == 0x22 || byte == 0x5C { break }
                    j += 1
                }
                if readingKey {
                    if document.count - memberStart - 1 + (j - i) <= Self.maxKeyBytes {
                        document.append(contentsOf: UnsafeBufferPointer(start: base + i, count: j - i))
                    } else {
                        keyOverflow = true
                    }
                }
                guard j < count else { break }
                if base[j] == 0x5C {
                    escaped = true
                } else {
                    inString = false
                    if readingKey {
                        readingKey = false
                        pendingKey = true
                    }
                }
                i = j + 1
                continue
            }
            let byte = base[i]
            i += 1
            switch byte {
            case 0x20, 0x0A, 0x0D, 0x09:
                break
            case UInt8(ascii: "\""):
                inString = true
                if depth == memberDepth && documentOpen && expectingKey {
                    expectingKey = false
                    readingKey = true
                    keyOverflow = false
                    memberStart = document.count
                    document.append(UInt8(ascii: "\""))
                }
            case UInt8(ascii: ":"):
                if depth == memberDepth && documentOpen && pendingKey {
                    pendingKey = false
                    if !keyOverflow && isWanted(document[(memberStart + 1)...]) {
                        document.append(UInt8(ascii: "\""))
                        document.append(UInt8(ascii: ":"))
                        capturing = true
                        captureFrom = i
                    } else {
                        dropMember()
                    }
                }
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                depth += 1
                if depth == 1 {
                    // The top-level value: one document, or an array of them.
                    if byte == UInt8(ascii: "{") {
                        memberDepth = 1
                        openDocument()
                    } else {
                        memberDepth = 2
                    }
                } else if depth == 2 && memberDepth == 2 && byte == UInt8(ascii: "{") {
                    openDocument()
                }
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if depth == memberDepth && documentOpen {
                    // The document's object closes.
                    if capturing { keep(base, from: captureFrom, to: i - 1) }
                    endMember()
                    closeDocument(&consumer)
                }
                depth -= 1
                if depth < 0 { gaveUp = true }
            case UInt8(ascii: ","):
                if depth == memberDepth && documentOpen {
                    if capturing { keep(base, from: captureFrom, to: i - 1) }
                    endMember()
                    expectingKey = true
                }
            default:
                if depth == 0 {
                    // Not an object or an array: nothing to pick.
                    gaveUp = true
                    return
                }
            }
        }
        if capturing { keep(base, from: captureFrom, to: count) }
    }

    /// Hands out a document cut off before its end, with the members completed so far.
    mutating func finish<Consumer: JSONDocumentConsumer>(into consumer: inout Consumer) {
        if documentOpen {
            if capturing || pendingKey || readingKey { dropMember() }
            closeDocument(&consumer)
        }
    }

    private func isWanted(_ key: ArraySlice<UInt8>) -> Bool {
        for wanted in keys where wanted.count == key.count && wanted.elementsEqual(key) { return true }
        return false
    }

    /// Adds `[from, to)` of the chunk to the kept value; a member past `maxMemberBytes` is dropped.
    private mutating func keep(_ base: UnsafePointer<UInt8>, from: Int, to: Int) {
        guard to > from else { return }
        if document.count - memberStart + (to - from) > Self.maxMemberBytes {
            dropMember()
            return
        }
        document.append(contentsOf: UnsafeBufferPointer(start: base + from, count: to - from))
    }

    /// Takes the member in progress back out of `document`.
    private mutating func dropMember() {
        capturing = false
        pendingKey = false
        readingKey = false
        document.removeSubrange(memberStart...)
    }

    private mutating func openDocument() {
        documentOpen = true
        expectingKey = true
        pendingKey = false
        capturing = false
        document.removeAll(keepingCapacity: true)
        document.reserveCapacity(256)
        document.append(UInt8(ascii: "{"))
        memberStart = document.count
    }

    private mutating func endMember() {
        if pendingKey { dropMember() }
        guard capturing else { return }
        capturing = false
        document.append(UInt8(ascii: ","))
    }

    private mutating func closeDocument<Consumer: JSONDocumentConsumer>(_ consumer: inout Consumer) {
        documentOpen = false
        expectingKey = false
        if document.last == UInt8(ascii: ",") {
            document[document.count - 1] = UInt8(ascii: "}")
        } else {
            document.append(UInt8(ascii: "}"))
        }
        document.withUnsafeBufferPointer { consumer.consume($0) }
    }
}

/// Takes the documents a `JSONFieldScanner` hands out.
protocol JSONDocumentConsumer {
    mutating func consume(_ document: UnsafeBufferPointer<UInt8>)
}
