import Testing

@testable import TollgateModel

@Suite("JSONReader and ServerSentEvents")
struct ParsingTests {
    func withReader<T>(_ text: String, _ body: (inout JSONReader) throws -> T) rethrows -> T {
        let bytes = Array(text.utf8)
        return try bytes.withUnsafeBufferPointer { buffer in
            var reader = JSONReader(buffer)
            return try body(&reader)
        }
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let s = try withReader(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00\ud800x""#) { try $0.readString() }
        #expect(s == "a\"b\\c/d\n\té😀\u{FFFD}x")
    }

    /// Strings end at their first unescaped quote whatever their length and wherever an escape sits.
    @Test func stringsOfEveryLengthWithAnEscapeAnywhereReadWhole() throws {
        for length in 0...72 {
            let plain = String(repeating: "x", count: length)
            #expect(try withReader("\"\(plain)\",1") { try $0.readString() } == plain)
            for at in 0...length {
                for (escape, decoded) in [(#"\""#, "\""), (#"\\"#, "\\"), (#"\n"#, "\n")] {
                    let text = "\"" + String(plain.prefix(at)) + escape + String(plain.dropFirst(at)) + "\""
                    let expected = String(plain.prefix(at)) + decoded + String(plain.dropFirst(at))
                    let (value, next) = try withReader(text + #","after""#) { r in
                        (try r.readString(), r.peekKind())
                    }
                    #expect(value == expected, "\(text)")
                    #expect(next == nil)  // stopped at the comma: the string ended at its own closing quote
                }
            }
        }
    }

    @Test func keysWithEscapesStillMatch() throws {
        var found: Int64?
        try withReader(#"{"us\u0061ge":{"prompt_tokens":5}}"#) { r in
            try r.readObject { r, key throws(JSONReader.Failure) in
                if key == "usage" {
                    try r.readObject { r, k throws(JSONReader.Failure) in
                        if k == "prompt_tokens" { found = try r.readCount() } else { try r.skipValue() }
                    }
                } else {
                    try r.skipValue()
                }
            }
        }
        #expect(found == 5)
    }

    @Test func countsAcceptOnlyWholeNonNegativeNumbers() throws {
        for (text, expected) in [("0", Int64(0)), ("123", 123), ("12.0", 12), ("1.5e3", 1500)] as [(String, Int64)] {
            #expect(try withReader(text) { try $0.readCount() } == expected, "\(text)")
        }
        for text in ["-1", "1.5", "null", "\"7\"", "true", "9223372036854775808"] {
            #expect(try withReader(text) { try $0.readCount() } == nil, "\(text)")
        }
    }

    /// A count inside an object, where the reader sees what follows its digits, reads as one at the end of input does,
    /// up to Int64's last value and past it; the member after it is read too.
    @Test func countsFollowedByMoreReadTheSame() throws {
        let cases: [(String, Int64?)] = [
            ("0", 0), ("7", 7), ("007", 7), ("123", 123), ("12.0", 12), ("1.5e3", 1500), ("1E+2", 100), ("-1", nil),
            ("1.5", nil), ("922337203685477579", 922_337_203_685_477_579),
            ("922337203685477580", 922_337_203_685_477_580), ("9223372036854775807", Int64.max),
            ("9223372036854775808", nil), ("99999999999999999999", nil),
        ]
        for (number, expected) in cases {
            for end in [",\"b\":4}", "}", " ,\"b\":4}", "\n}"] {
                var count: Int64?
                var b: Int64?
                try withReader("{\"a\":\(number)\(end)") { r in
                    try r.readObject { r, key throws(JSONReader.Failure) in
                        if key == "a" { count = try r.readCount() } else { b = try r.readCount() }
                    }
                }
                #expect(count == expected, "\(number)\(end)")
                #expect(b == (end.contains("b") ? 4 : nil), "\(number)\(end)")
            }
        }
    }

    @Test func malformedInputThrows() {
        // Read member by member: the object grammar is checked.
        for text in ["{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "{1:2}"] {
            #expect(throws: JSONReader.Failure.self, "\(text)") {
                try withReader(text) { r in
                    try r.readObject { r, _ throws(JSONReader.Failure) in try r.skipValue() }
                }
            }
        }
        // Skipped whole: balance, strings and scalars are checked.
        for text in ["[1,2", "{\"a\":[}", "\"abc", "tru", "nul", "-", "x", "", "{\"a\":\"b}"] {
            #expect(throws: JSONReader.Failure.self, "\(text)") {
                try withReader(text) { try $0.skipValue() }
            }
        }
    }

    @Test func skipsWholeDocumentsOfEveryKind() throws {
        let ok = try withReader(#" {"a":[1,-2.5e-3,true,false,null,{"b":"c\"d"}],"e":{}} "#) { r -> Bool in
            try r.skipValue()
            return r.isAtEnd()
        }
        #expect(ok)
    }

    /// A skipped container ends at its own closing bracket wherever the brackets, quotes and escapes inside it fall
    /// (strings are skipped sixteen bytes at a time): brackets inside strings do not count, and the member after it is
    /// read.
    @Test func skippedContainersEndAtTheirOwnBracketAtEveryOffset() throws {
        let insides = [
            #"{"t":"a]b}c[d{","u":[1,{"v":"\"]"}],"w":null}"#, #"[[],{},"}",[{"x":"\\"}]]"#,
            #"{"s":"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"}"#,
        ]
        for inside in insides {
            for padding in 0...40 {
                let spaces = String(repeating: " ", count: padding)
                let numbers = String(repeating: "1,", count: padding / 2)
                let text =
                    #"{"skip":"# + inside.replacingOccurrences(of: ":", with: ":" + spaces)
                    + #","more":[\#(numbers)2],"model":"m"}"#
                var model: String?
                let atEnd = try withReader(text) { r -> Bool in
                    try r.readObject { r, key throws(JSONReader.Failure) in
                        if key == "model" { model = try r.readString() } else { try r.skipValue() }
                    }
                    return r.isAtEnd()
                }
                #expect(model == "m" && atEnd, "\(text)")
            }
        }
        for text in [#"{"a":"}"#, #"[{"b":"]"}"#, "[" + String(repeating: "1,", count: 30)] {
            #expect(throws: JSONReader.Failure.self, "\(text)") { try withReader(text) { try $0.skipValue() } }
        }
    }

    /// Where a container starting at offset 0 of `bytes` ends, or the failure and the reader's offset after it, as a
    /// scan one byte at a time finds them: brackets counted outside strings, a string ending at its first quote not
    /// escaped by a backslash.
    static func referenceSkip(_ bytes: [UInt8]) -> (end: Int?, failure: JSONReader.Failure?, index: Int) {
        var nesting = 0
        var i = 0
        while i < bytes.count {
            switch bytes[i] {
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                nesting += 1
                i += 1
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                nesting -= 1
                i += 1
                if nesting == 0 { return (i, nil, i) }
            case UInt8(ascii: "\""):
                let contentStart = i + 1
                i += 1
                while true {
                    guard i < bytes.count else {
                        return (nil, JSONReader.Failure(.unterminatedString, at: bytes.count), contentStart)
                    }
                    if bytes[i] == UInt8(ascii: "\"") { break }
                    if bytes[i] == UInt8(ascii: "\\") {
                        i += 2
                        guard i < bytes.count else {
                            return (nil, JSONReader.Failure(.unterminatedString, at: bytes.count), contentStart)
                        }
                    } else {
                        i += 1
                    }
                }
                i += 1
            default:
                i += 1
            }
        }
        return (nil, JSONReader.Failure(.unexpectedEnd, at: bytes.count), bytes.count)
    }

    /// Containers skipped sixteen bytes at a time end where a scan one byte at a time ends them, or fail where it
    /// fails: random bytes of brackets, braces, quotes, backslashes and fillers, at every length up to 90 (so every
    /// position within and across the sixteen-byte steps), 4,000 documents from a fixed seed.
    @Test func skippedContainersMatchAByteByByteScan() {
        let alphabet = Array("{}[]\"\\a ,:1z".utf8) + [0x7B | 0x80, 0x5D | 0x80, 0x02, 0x1B]
        var generator = SplitMix64(seed: 0x5EED)
        for n in 0..<4_000 {
            let length = 1 + n % 90
            var bytes = [n % 2 == 0 ? UInt8(ascii: "{") : UInt8(ascii: "[")]
            for _ in 1..<length { bytes.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
            let expected = Self.referenceSkip(bytes)
            bytes.withUnsafeBufferPointer { buffer in
                var reader = JSONReader(buffer)
                do {
                    try reader.skipValue()
                    #expect(expected.end == reader.index, "\(bytes)")
                } catch {
                    #expect(expected.failure == error as? JSONReader.Failure, "\(bytes)")
                    #expect(expected.index == reader.index, "\(bytes)")
                }
            }
        }
    }

    func events(_ text: String) -> [String] {
        var out: [String] = []
        Array(text.utf8).withUnsafeBufferPointer { buffer in
            ServerSentEvents.forEachData(in: buffer) { out.append(String(decoding: $0, as: UTF8.self)) }
        }
        return out
    }

    @Test func splitsEventsOnBlankLinesWithAnyLineEnding() {
        #expect(events("data: a\n\ndata: b\r\n\r\ndata:c\r\rdata: d") == ["a", "b", "c", "d"])
    }

    @Test func joinsMultiLineDataAndSkipsCommentsAndOtherFields() {
        let text = ": keep-alive\nevent: message\nid: 7\nretry: 100\ndata: {\"a\":\ndata: 1}\n\ndatax: no\n\n"
        #expect(events(text) == ["{\"a\":\n1}"])
    }

    @Test func emptyDataAndLinesWithoutColonAreHandled() {
        #expect(events("data\n\ndata:\n\n") == ["", ""])
        #expect(events("") == [])
        #expect(events("\n\n\n") == [])
    }
}
