import Testing

@testable import TollgateModel

/// `JSONParser` reads a client's whole document through `JSONReader`, the reader the usage scanners use, and holds
/// it to RFC 8259 where the reader alone is lenient (a provider's body is read for a few fields, a client's input
/// must mean one thing).
struct JSONParserTests {
    private func failure(_ text: String, options: JSONParser.Options = []) -> JSONParser.SyntaxError? {
        do throws(JSONParser.SyntaxError) {
            _ = try JSONParser.parse(Array(text.utf8), options: options)
            return nil
        } catch {
            return error
        }
    }

    @Test func eachMalformedDocumentIsRefusedWithWhatAndWhere() {
        let cases: [(String, String, Int)] = [
            ("", "unexpected end of input", 0),
            (#"{"a":01}"#, "invalid number", 5),
            (#"{"a":1.}"#, "invalid number", 5),
            (#"{"a":1e}"#, "invalid number", 5),
            (#"{"a":--1}"#, "invalid number", 5),
            (#"{"a":1-2}"#, "invalid number", 5),
            (#"[1,]"#, "unexpected character", 3),
            (#"{"a" 1}"#, "expected ':'", 5),
            (#"{"a":1 "b":2}"#, "expected '}'", 7),
            (#"{a:1}"#, "expected a string", 1),
            ("[tru]", "invalid literal", 4),
            ("{\"a\":\"x\ny\"}", "control character in string", 7),
            (#"["\x"]"#, "invalid escape", 2),
            (#"["\u12G4"]"#, "invalid unicode escape", 6),
            (#"{"a":"b"#, "unterminated string", 7),
            ("{} x", "trailing characters", 3),
            ("[1", "unexpected end of input", 2),
        ]
        for (text, reason, offset) in cases {
            let error = failure(text)
            #expect(error?.reason == reason, "\(text)")
            #expect(error?.offset == offset, "\(text)")
        }
    }

    @Test func optionsRefuseADuplicateMemberAndAnInexactNumber() {
        let duplicate = failure(#"{"a":1,"b":{"c":1,"c":2}}"#, options: [.rejectDuplicateKeys])
        #expect(duplicate?.duplicateMember == "c" && duplicate?.reason == "duplicate member")
        #expect(failure(#"{"a":1,"a":2}"#) == nil)
        #expect((try? JSONParser.parse(#"{"a":1,"a":2}"#))?["a"] == .number(2))

        let inexact = failure(#"{"limit":0.1000000000000000055511151231257827}"#, options: [.rejectInexactNumbers])
        #expect(inexact?.reason.hasPrefix("number 0.1000000000000000055511151231257827 cannot be read exactly") == true)
        #expect(inexact?.offset == 9)
        #expect(failure(#"{"limit":12.50}"#, options: [.rejectInexactNumbers]) == nil)
    }

    @Test func theReaderAloneStaysLenientForProviderBodies() throws {
        // What the usage scanners read: a number's end is found, not its grammar checked; a container they skip is
        // checked for balance only.
        let bytes = Array(#"{"n":01,"skipped":{"x":[1,,2]},"model":"m"}"#.utf8)
        let model: String? = try bytes.withUnsafeBufferPointer { buffer throws(JSONReader.Failure) in
            var reader = JSONReader(buffer)
            var model: String?
            try reader.readObject { (reader, key) throws(JSONReader.Failure) in
                if key == "model" { model = try reader.readString() }
            }
            return model
        }
        #expect(model == "m")
        #expect(failure(#"{"n":01,"skipped":{"x":[1,,2]},"model":"m"}"#) != nil)
    }
}
