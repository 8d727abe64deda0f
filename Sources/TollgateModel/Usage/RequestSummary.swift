/// What a request says about itself: the model it asks for and whether it asks for a stream.
public struct RequestSummary: Sendable, Equatable {
    /// The request body's top-level `model`, else the model named in a Gemini-style path
    /// (`…/models/{model}:generateContent`).
    public var model: String?
    /// The body's top-level `"stream": true`, or a `:streamGenerateContent` path.
    public var stream: Bool

    public init(model: String? = nil, stream: Bool = false) {
        self.model = model
        self.stream = stream
    }

    /// Reads the top level of a JSON request body; anything else (multipart uploads, empty or malformed bodies)
    /// gives what the path alone says.
    public init(body: [UInt8], path: String = "") {
        self = body.withUnsafeBufferPointer { RequestSummary(json: $0) }.completed(path: path)
    }

    /// Reads the top level of JSON text (what it read before anything malformed).
    init(json bytes: UnsafeBufferPointer<UInt8>) {
        self.init()
        var reader = JSONReader(bytes)
        guard reader.peekKind() == .object else { return }
        try? readTopLevel(&reader)
    }

    /// Reads JSON text that is one whole object followed by nothing but whitespace, as `init(json:)` does; nil when
    /// it is not (cut short, malformed, or not an object).
    init?(wholeJSON bytes: UnsafeBufferPointer<UInt8>) {
        self.init()
        var reader = JSONReader(bytes)
        guard reader.peekKind() == .object else { return nil }
        do throws(JSONReader.Failure) {
            try readTopLevel(&reader)
        } catch {
            return nil
        }
        guard reader.isAtEnd() else { return nil }
    }

    /// The top-level object's `model` and `stream`; every other member skipped.
    private mutating func readTopLevel(_ reader: inout JSONReader) throws(JSONReader.Failure) {
        var model: String?
        var stream = false
        defer {
            if let model { self.model = model }
            self.stream = stream
        }
        try reader.readObject { r, key throws(JSONReader.Failure) in
            if key == "model" {
                if let value = try r.readStringOrSkip(), !value.isEmpty { model = value }
            } else if key == "stream" {
                stream = try r.readBoolOrSkip() ?? false
            } else {
                try r.skipValue()
            }
        }
    }

    /// This summary with what a Gemini-style path adds: its model when the body named none, and the stream mode of
    /// `:streamGenerateContent`.
    public func completed(path: String) -> RequestSummary {
        guard !path.isEmpty else { return self }
        var summary = self
        if summary.model == nil { summary.model = Self.pathModel(path) }
        if !summary.stream, path.hasSuffix(":streamGenerateContent") { summary.stream = true }
        return summary
    }

    /// The `{model}` of a `…/models/{model}:{method}` path (Gemini, e.g.
    /// `/v1beta/models/gemini-2.5-flash:generateContent`), or nil.
    public static func pathModel(_ path: String) -> String? {
        let bytes = Array(path.utf8)
        let marker = Array("/models/".utf8)
        guard bytes.count > marker.count else { return nil }
        var start = bytes.count - marker.count
        while start >= 0 {
            if bytes[start..<start + marker.count].elementsEqual(marker) { break }
            start -= 1
        }
        guard start >= 0 else { return nil }
        let nameStart = start + marker.count
        guard let colon = bytes[nameStart...].firstIndex(of: UInt8(ascii: ":")), colon > nameStart,
            !bytes[nameStart..<colon].contains(UInt8(ascii: "/"))
        else { return nil }
        return String(decoding: bytes[nameStart..<colon], as: UTF8.self)
    }
}
