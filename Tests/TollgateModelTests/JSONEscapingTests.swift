import Testing
import TollgateModel

/// `JSONText` is the one JSON string escaper: what it writes must parse back to the string it was given.
@Suite struct JSONEscapingTests {
    @Test func escapesQuotesBackslashesAndControlCharactersOnly() {
        #expect(JSONText.quoted("plain") == #""plain""#)
        #expect(JSONText.quoted("") == #""""#)
        #expect(
            JSONText.quoted("a \"b\" \\ \n\r\t\u{01}\u{08}\u{0C}\u{1F}")
                == #""a \"b\" \\ \n\r\t\u0001\u0008\u000c\u001f""#)
        // Everything else is its UTF-8, slash and DEL included.
        #expect(JSONText.quoted("é / \u{7F} 🦆 日本") == "\"é / \u{7F} 🦆 日本\"")
    }

    @Test func theStringAndByteFormsAgreeAndParseBack() throws {
        var text = String((0..<0x80).map { Character(Unicode.Scalar(UInt8($0))) })
        text += "ünïcödé \u{2028} 🦆\"\\"
        var appended = "["
        JSONText.append(text, to: &appended)
        var bytes: [UInt8] = []
        JSONText.append(text, to: &bytes)
        #expect(appended == "[" + String(decoding: bytes, as: UTF8.self))
        #expect(JSONText.quoted(text) == "\"" + String(decoding: bytes, as: UTF8.self) + "\"")
        #expect(try JSONParser.parse(JSONText.quoted(text)) == .string(text))
        // Escapes at either end, alone or back to back.
        for edge in ["\n", "\na", "a\n", "\"\"", "a\u{00}b"] {
            #expect(try JSONParser.parse(JSONText.quoted(edge)) == .string(edge))
        }
    }
}
