/// The `cf-aig-metadata` request header: a JSON object of at most 5 entries whose values are strings, numbers or
/// booleans, e.g. `{"team":"search","user":1234,"beta":true}`. Entries keep the client's order.
public enum MetadataHeader {
    public static let name: StaticString = "cf-aig-metadata"
    public static let maxEntries = 5

    /// Parses the header value. Throws `ModelError` (code `.invalidMetadata`) naming the problem — not JSON, not
    /// an object, too many entries, a duplicate key, or a value that is null, an array or an object — for the
    /// proxy to answer 400 with.
    public static func parse(_ value: String) throws(ModelError) -> [MetadataEntry] {
        var utf8 = Array(value.utf8)
        return try utf8.withUnsafeMutableBufferPointer { buffer throws(ModelError) in
            try parse(UnsafeBufferPointer(buffer))
        }
    }

    private static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(ModelError) -> [MetadataEntry] {
        var reader = JSONReader(bytes)
        guard let kind = reader.peekKind() else { throw invalid("\(name) is not valid JSON") }
        guard kind == .object else {
            let isJSON = (try? reader.skipValue()) != nil && reader.isAtEnd()
            throw invalid(isJSON ? "\(name) must be a JSON object" : "\(name) is not valid JSON")
        }
        var entries: [MetadataEntry] = []
        var problem: ModelError?
        do {
            try reader.readObject { r, k throws(JSONReader.Failure) in
                let key = try k.string()
                guard problem == nil else { return try r.skipValue() }
                if entries.count == maxEntries {
                    problem = invalid("\(name) has more than \(maxEntries) entries")
                } else if entries.contains(where: { $0.key == key }) {
                    problem = invalid("\(name) has the key \"\(Self.printable(key))\" more than once")
                }
                guard problem == nil else { return try r.skipValue() }
                switch r.peekKind() {
                case .string:
                    entries.append(MetadataEntry(key, .string(try r.readString())))
                case .bool:
                    entries.append(MetadataEntry(key, .bool(try r.readBool())))
                case .number:
                    let number = try r.readDouble()
                    if number.isFinite {
                        entries.append(MetadataEntry(key, .number(number)))
                    } else {
                        problem = invalid("\(name) value of \"\(Self.printable(key))\" is not a finite number")
                    }
                default:
                    problem = invalid(
                        "\(name) value of \"\(Self.printable(key))\" must be a string, number or boolean")
                    try r.skipValue()
                }
            }
            guard reader.isAtEnd() else { throw JSONReader.Failure() }
        } catch {
            throw invalid("\(name) is not valid JSON")
        }
        if let problem { throw problem }
        return entries
    }

    private static func invalid(_ message: String, line: Int = #line) -> ModelError {
        ModelError(code: .invalidMetadata, message: message, line: line)
    }

    /// Keys are echoed in error messages; keep them short and free of control characters.
    private static func printable(_ key: String) -> String {
        let cleaned = String(key.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
        return cleaned.count > 64 ? String(cleaned.prefix(64)) + "…" : cleaned
    }
}
