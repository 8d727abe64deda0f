/// Reads what a request says about itself (`RequestSummary`: top-level `model` and `stream`) as its body passes,
/// chunk by chunk, keeping only those two members.
public struct RequestSummaryScanner: Sendable {
    /// What the first document's kept members say.
    private struct FirstDocument: JSONDocumentConsumer {
        var summary: RequestSummary?

        mutating func consume(_ document: UnsafeBufferPointer<UInt8>) {
            if summary == nil { summary = RequestSummary(json: document) }
        }
    }

    private static let keys = JSONFieldScanner.keyTable(["model", "stream"])

    private var json = JSONFieldScanner(keys: Self.keys)
    private var first = FirstDocument()
    /// Bytes were fed: the first chunk was looked at whole.
    private var fed = false

    public init() {}

    /// Reads the next bytes of the body.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        if first.summary != nil { return }
        if !fed {
            fed = true
            // A body that arrives whole in its first chunk (the usual small request) is read in one pass.
            if let summary = RequestSummary(wholeJSON: bytes.bindMemory(to: UInt8.self)) {
                first.summary = summary
                return
            }
        }
        json.feed(bytes, into: &first)
    }

    /// What the body said: the same as `RequestSummary(body:)` on the whole body (the path is not looked at).
    public mutating func finish() -> RequestSummary {
        json.finish(into: &first)
        return first.summary ?? RequestSummary()
    }
}
