import Testing

@testable import TollgateModel

@Suite("Redaction")
struct RedactionTests {
    @Test(arguments: [
        "Authorization", "x-api-key", "api-key", "Cookie", "set-cookie", "cf-aig-authorization", "X-Goog-Api-Key",
        "x-amz-security-token", "OpenAI-Secret", "proxy-authorization", "x-signature", "db-password",
        "x-client-credential", "KEYS",
    ])
    func sensitiveHeadersKeepTheirNameAndLoseTheirValue(_ name: String) {
        let header = HeaderRedaction.redacted(name: name, value: "sk-live-abcdef0123456789")
        #expect(header.name == name.lowercased())
        #expect(header.value == "REDACTED")
    }

    @Test(arguments: [
        "content-type", "accept", "user-agent", "openai-processing-ms", "x-request-id", "anthropic-version",
    ])
    func ordinaryHeadersAreKept(_ name: String) {
        #expect(HeaderRedaction.redacted(name: name, value: "v 1") == Header(name, "v 1"))
    }

    @Test func rateLimitHeadersKeepCountsButNotAnythingElse() {
        #expect(HeaderRedaction.redacted(name: "x-ratelimit-remaining-tokens", value: "149984").value == "149984")
        #expect(HeaderRedaction.redacted(name: "x-ratelimit-reset-tokens", value: "6m0s").value == "6m0s")
        #expect(
            HeaderRedaction.redacted(name: "anthropic-ratelimit-input-tokens-reset", value: "2026-11-25T13:50:00Z")
                .value
                == "2026-11-25T13:50:00Z")
        #expect(HeaderRedaction.redacted(name: "x-ratelimit-token", value: "sk-abc123").value == "REDACTED")
        #expect(
            HeaderRedaction.redacted(name: "x-ratelimit-key", value: String(repeating: "1", count: 64)).value
                == "REDACTED")
    }

    @Test func redactKeepsOrderAndLowercasesNames() {
        let out = HeaderRedaction.redact([
            ("Content-Type", "application/json"), ("Authorization", "Bearer x"), ("X-Custom", "A"),
        ])
        #expect(
            out == [
                Header("content-type", "application/json"), Header("authorization", "REDACTED"),
                Header("x-custom", "A"),
            ])
    }

    /// The store's thread redacts through a memo of the names it saw; a name that comes again, a name that takes
    /// another's slot, and names the memo does not keep (empty, over 128 bytes) must give what the plain function
    /// gives: a memo that answered a secret header from a benign name's entry would store the secret.
    @Test func theNameMemoGivesWhatThePlainRedactionGives() {
        var names = [
            "Content-Type", "content-type", "Authorization", "authorization", "x-api-key", "X-Request-Id",
            "x-ratelimit-remaining-tokens", "X-RateLimit-Reset-Tokens", "anthropic-ratelimit-input-tokens-reset",
            "openai-processing-ms", "set-cookie", "Cookie", "cookies", "x-goog-api-key", "date", "server", "",
            String(repeating: "a", count: 129), String(repeating: "k", count: 128) + "ey",
            String(repeating: "x", count: 127) + "-token",
        ]
        // Many more names than slots, so entries replace each other; pairs that differ in one byte only.
        for i in 0..<300 { names.append("x-header-\(i)") }
        for i in 0..<50 { names.append("x-toke\(i % 10)") }
        for i in 0..<50 { names.append("x-auth\(i % 10)") }
        let values = ["149984", "6m0s", "Bearer sk-live-abc", "application/json", String(repeating: "9", count: 41)]
        var memo = HeaderRedaction.NameMemo()
        var random = SplitMix64(seed: 7)
        for round in 0..<5_000 {
            let name = names[Int(random.next() % UInt64(names.count))]
            let value = values[Int(random.next() % UInt64(values.count))]
            let expected = HeaderRedaction.redacted(name: name, value: value)
            #expect(memo.redacted(name: name, value: value) == expected, "round \(round): \(name)")
        }
        // A response whose headers are all kept as they came (lowercase, rate-limit counts) is stored as it came.
        let benign = HeaderList(pairs: [
            ("content-type", "application/json"), ("x-ratelimit-remaining-tokens", "149984"),
            ("openai-processing-ms", "1"), ("x-request-id", "req_1"),
        ])
        #expect(memo.redact(benign) == benign)
        let withCookie = [(name: "content-type", value: "a"), (name: "set-cookie", value: "s=1")]
        #expect(
            memo.redact(HeaderList(pairs: withCookie))
                == HeaderList(withCookie.map { HeaderRedaction.redacted(name: $0.name, value: $0.value) }))
        #expect(memo.redact(HeaderList(pairs: withCookie)) != HeaderList(pairs: withCookie))
        let headers = names.prefix(40).map { (name: $0, value: "Bearer sk-live-abc") }
        let each = HeaderList(headers.map { HeaderRedaction.redacted(name: $0.name, value: $0.value) })
        #expect(memo.redact(headers) == each && HeaderRedaction.redact(headers) == each)
        // Whole lists, as the store's thread redacts them: a header packed before is copied as it was, so lists that
        // repeat names with the same, other, longer and shorter values, rate-limit values kept then redacted, and
        // names that take each other's slots, must still come out as the plain redaction has them.
        let longValue = String(repeating: "v", count: 300)
        for round in 0..<2_000 {
            let list = (0..<Int(random.next() % 24)).map { _ in
                (
                    name: names[Int(random.next() % 60)],
                    value: random.next() % 5 == 0 ? longValue : values[Int(random.next() % UInt64(values.count))]
                )
            }
            // The oracle: each header on its own, through the memo-free path.
            let expected = HeaderList(list.map { HeaderRedaction.redacted(name: $0.name, value: $0.value) })
            #expect(memo.redact(list) == expected, "round \(round), from strings")
            #expect(memo.redact(HeaderList(pairs: list)) == expected, "round \(round), packed as they came")
        }
    }

    @Test func namesCompareWithoutASCIICase() {
        #expect(ASCII.equalsIgnoringCase("Content-Type", "content-type"))
        #expect(ASCII.equalsIgnoringCase("CF-AIG-CUSTOM-COST", "cf-aig-custom-cost"))
        #expect(!ASCII.equalsIgnoringCase("content-typ", "content-type"))
        #expect(!ASCII.equalsIgnoringCase("content-types", "content-type"))
        #expect(!ASCII.equalsIgnoringCase("content_type", "content-type"))
        #expect(ASCII.equalsIgnoringCase("", ""))
        // A substring of a longer string, and a string too long to be stored inline.
        let header = "X-Content-Type: json"
        #expect(ASCII.equalsIgnoringCase(header.dropFirst(2).prefix(12), "content-type"))
        #expect(ASCII.equalsIgnoringCase(String(repeating: "A", count: 20), "aaaaaaaaaaaaaaaaaaaa"))
    }

    @Test func queryRedactsSecretParametersOnly() {
        #expect(QueryRedaction.redact("alt=sse&key=AIzaSyD-secret") == "alt=sse&key=REDACTED")
        #expect(
            QueryRedaction.redact("X-Amz-Signature=abc&X-Amz-Date=1&access_token=t&api%5Fkey=k&client_secret=s")
                == "X-Amz-Signature=REDACTED&X-Amz-Date=1&access_token=REDACTED&api%5Fkey=REDACTED&client_secret=REDACTED"
        )
        #expect(QueryRedaction.redact("limit=10&order=desc") == "limit=10&order=desc")
        #expect(QueryRedaction.redact("key") == "key=REDACTED")
        #expect(QueryRedaction.redact("a=1&&b=2") == "a=1&&b=2")
        #expect(QueryRedaction.redact("") == "")
    }
}

@Suite("MetadataHeader")
struct MetadataHeaderTests {
    @Test func parsesStringsNumbersAndBooleansInOrder() throws {
        let entries = try MetadataHeader.parse(
            #" {"team":"search","user":1234,"ratio":0.5,"beta":true,"tag":"\u00e9"} "#)
        #expect(
            entries == [
                MetadataEntry("team", .string("search")), MetadataEntry("user", .number(1234)),
                MetadataEntry("ratio", .number(0.5)), MetadataEntry("beta", .bool(true)),
                MetadataEntry("tag", .string("é")),
            ])
        #expect(try MetadataHeader.parse("{}") == [])
    }

    @Test(arguments: [
        ("", "not valid JSON"),
        ("team=search", "not valid JSON"),
        (#"["a"]"#, "must be a JSON object"),
        (#""a""#, "must be a JSON object"),
        (#"{"a":1,"b":2,"c":3,"d":4,"e":5,"f":6}"#, "more than 5 entries"),
        (#"{"a":null}"#, #"value of "a" must be a string, number or boolean"#),
        (#"{"a":[1]}"#, #"value of "a" must be a string, number or boolean"#),
        (#"{"nested":{"b":1}}"#, #"value of "nested" must be a string, number or boolean"#),
        (#"{"a":1,"a":2}"#, #"the key "a" more than once"#),
        (#"{"a":1e999}"#, #"value of "a" is not a finite number"#),
        (#"{"a":1} trailing"#, "not valid JSON"),
        (#"{"a":1"#, "not valid JSON"),
    ])
    func rejectsWithAMessageNamingTheProblem(_ input: String, _ fragment: String) {
        do {
            _ = try MetadataHeader.parse(input)
            Issue.record("accepted \(input)")
        } catch {
            #expect(error.code == .invalidMetadata)
            #expect(error.message.contains(fragment), "\(error.message)")
            #expect(error.message.hasPrefix("cf-aig-metadata"))
        }
    }
}

@Suite("Identifier")
struct IdentifierTests {
    @Test func acceptsTheDocumentedForm() {
        for id in ["default", "a", "0", "acme-prod", "a-", String(repeating: "z", count: 64), "9lives"] {
            #expect(Identifier.isValid(id), "\(id)")
        }
    }

    @Test func rejectsEverythingElse() {
        for id in ["", "-a", "Acme", "a_b", "a.b", "a b", "é", String(repeating: "z", count: 65), "a/b", "ａ"] {
            #expect(!Identifier.isValid(id), "\(id)")
        }
    }
}
