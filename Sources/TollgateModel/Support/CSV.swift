/// CSV text out of strings (RFC 4180): a field is quoted when it holds a comma, a quote or a line break (CR or LF,
/// CRLF included), its quotes doubled; a row ends in CRLF. The one CSV writer: the export and the monthly report
/// write through it.
public enum CSV {
    /// `text` as one field: as it is, or quoted when it must be.
    public static func field(_ text: String) -> String {
        let quote = UInt8(ascii: "\"")
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == quote || $0 == 0x0A || $0 == 0x0D })
        else { return text }
        var out: [UInt8] = [quote]
        out.reserveCapacity(text.utf8.count + 4)
        for byte in text.utf8 {
            out.append(byte)
            if byte == quote { out.append(quote) }
        }
        out.append(quote)
        return String(decoding: out, as: UTF8.self)
    }

    /// `fields` as one row, each quoted when it must be, with its CRLF.
    public static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }
}
