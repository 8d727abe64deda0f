import Testing
import TollgateModel

@testable import TollgateMockProvider

@Suite("Mock provider: request JSON and token counting")
struct MockProviderJSONTests {
    @Test func parsesNestedValues() throws {
        let value = try JSONParser.parse(#" {"a":[1,-2.5e2,true,false,null],"b":{"c":"d"}} "#)
        #expect(value["a"] == .array([.number(1), .number(-250), .bool(true), .bool(false), .null]))
        #expect(value["b"]?["c"]?.stringValue == "d")
    }

    @Test func decodesEscapesAndSurrogatePairs() throws {
        let value = try JSONParser.parse(#""a\"b\\c\/d\n\t\u00e9\ud83d\ude00""#)
        #expect(value.stringValue == "a\"b\\c/d\n\té😀")
    }

    @Test func rejectsMalformedDocuments() {
        for text in ["", "{", #"{"a"}"#, "[1,]", "01", "1.", "tru", #""\x""#, "{} x", "\"a\nb\"", "-"] {
            #expect(throws: JSONParser.SyntaxError.self, "\(text)") { try JSONParser.parse(text) }
        }
    }

    @Test func rejectsExcessiveNesting() {
        let deep = String(repeating: "[", count: 200) + String(repeating: "]", count: 200)
        #expect(throws: JSONParser.SyntaxError.self) { try JSONParser.parse(deep) }
        let fine = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(throws: Never.self) { try JSONParser.parse(fine) }
    }

    @Test func countsWordsAndSkipsRoleAndType() throws {
        #expect(MockRequest.countWords("  one two\tthree\n\nfour  ") == 4)
        #expect(MockRequest.countWords("") == 0)
        let messages = try JSONParser.parse(
            #"[{"role":"user","content":[{"type":"text","text":"a b c"},{"type":"image_url","image_url":{"url":"u"}}]}]"#
        )
        #expect(MockRequest.countTokens(messages) == 4)
        #expect(MockRequest.countTokens(try JSONParser.parse("[[1,2],[3]]")) == 3)
    }

    @Test func usageSplitHonoursOverridesWithinBounds() throws {
        let responder = MockResponder(configuration: .init())
        var fault = MockFault()
        fault.cachedTokens = 100
        fault.cacheWriteTokens = 100
        fault.reasoningTokens = 3
        let request = MockRequest(
            endpoint: .messages, model: "m", stream: false, includeUsage: false, inputTokens: 10, instructions: nil,
            embeddingSeeds: [], embeddingBase64: false, dimensions: nil, fingerprint: 1)
        let usage = responder.usage(for: request, outputWords: 4, fault: fault)
        #expect(usage == .init(input: 10, cached: 10, cacheWrite: 0, output: 4, reasoning: 0))
    }

    @Test func faultHeaderGrammar() throws {
        let fault = try MockFault(
            fault: " Delay-MS=5 ,chunk-delay-ms=0, cut-stream-after=2,status=503", usage: nil, replyWords: " 7 ")
        #expect(fault.delayMilliseconds == 5)
        #expect(fault.cutAfter == 2)
        #expect(fault.status == 503)
        #expect(fault.replyWords == 7)
        #expect(!fault.close)
        #expect(throws: MockProviderError.self) { try MockFault(fault: "close=1", usage: nil, replyWords: nil) }
        #expect(throws: MockProviderError.self) { try MockFault(fault: "delay-ms=-1", usage: nil, replyWords: nil) }
    }
}
