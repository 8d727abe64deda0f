import NIOCore
import TollgateModel

/// The parts of a provider API request the mock provider answers from.
///
/// Input tokens are a stable function of the body: the number of words (maximal runs of characters other than
/// ASCII space, tab, CR and LF) in every string under the top-level members `messages`, `input`, `instructions`,
/// `system`, `prompt`, `contents`, `systemInstruction` (Gemini) and `inputs` (Hugging Face's text-generation task) — except the values of members named `role` or `type` — plus one per number there (so a
/// pre-tokenized embeddings input counts one token per integer).
struct MockRequest: Sendable {
    enum Endpoint: Sendable, Equatable {
        case chatCompletions
        case responses
        case embeddings
        case messages
        /// Gemini `generateContent` / `streamGenerateContent` (Vertex AI).
        case generateContent
        /// Cohere v2 `POST /v2/chat`.
        case cohereChat
        /// Workers AI REST `POST /client/v4/accounts/{account_id}/ai/run/{model}`.
        case workersAIRun
        /// Bedrock `Converse` / `ConverseStream`.
        case converse
        /// Hugging Face's Inference API text-generation task, `POST /models/{model}` (`{"inputs":…}`).
        case textGeneration
    }

    var endpoint: Endpoint
    var model: String
    var stream: Bool
    /// `stream_options.include_usage` (chat completions).
    var includeUsage: Bool
    var inputTokens: Int
    /// `instructions` of a Responses API request, echoed in the response object.
    var instructions: String?
    /// One seed per input of an embeddings request: a hash of the model and that input alone, so an input gets
    /// the same vector whatever else the request holds.
    var embeddingSeeds: [UInt64]

    var embeddingInputs: Int { embeddingSeeds.count }
    var embeddingBase64: Bool
    var dimensions: Int?
    /// FNV-1a hash of the body: seeds ids and embedding values, so equal requests get equal responses.
    var fingerprint: UInt64

    static let countedMembers: Set<String> = [
        "messages", "input", "instructions", "system", "prompt", "contents", "systemInstruction", "inputs",
    ]

    /// `model`: the model a templated path names (Vertex AI, an Azure deployment), which the body need not carry.
    static func parse(
        endpoint: Endpoint, body: ByteBuffer, model pathModel: String? = nil
    ) throws(MockProviderError) -> MockRequest {
        let parsed: Result<(JSONValue, UInt64), JSONParser.SyntaxError> = body.withUnsafeReadableBytes { bytes in
            do throws(JSONParser.SyntaxError) {
                return .success((try JSONParser.parse(bytes), fnv1a(bytes)))
            } catch {
                return .failure(error)
            }
        }
        let json: JSONValue
        let fingerprint: UInt64
        switch parsed {
        case .success(let value): (json, fingerprint) = value
        case .failure(let error):
            throw .badRequest("the request body is not valid JSON (\(error.reason) at byte \(error.offset))")
        }
        guard case .object(let members) = json else { throw .badRequest("the request body must be a JSON object") }
        guard let model = pathModel ?? members["model"]?.stringValue, !model.isEmpty else {
            throw .badRequest("you must provide a model parameter")
        }
        var inputTokens = 0
        for (key, value) in members where countedMembers.contains(key) {
            inputTokens += countTokens(value)
        }
        var embeddingSeeds: [UInt64] = []
        if endpoint == .embeddings {
            let modelSeed = hash(.string(model), into: fnvOffsetBasis)
            switch members["input"] {
            case .string(let text)?:
                embeddingSeeds = [hash(.string(text), into: modelSeed)]
            case .array(let elements)?:
                if elements.allSatisfy({ if case .number = $0 { true } else { false } }) {
                    embeddingSeeds = elements.isEmpty ? [] : [hash(.array(elements), into: modelSeed)]
                } else {
                    embeddingSeeds = elements.map { hash($0, into: modelSeed) }
                }
            default: throw .badRequest("'input' must be a string or an array")
            }
            guard !embeddingSeeds.isEmpty else { throw .badRequest("'input' must not be empty") }
        }
        var dimensions: Int?
        if let value = members["dimensions"], value != .null {
            guard let number = value.intValue, (1...65_536).contains(number) else {
                throw .badRequest("'dimensions' must be an integer between 1 and 65536")
            }
            dimensions = number
        }
        return MockRequest(
            endpoint: endpoint,
            model: model,
            stream: members["stream"]?.boolValue ?? false,
            includeUsage: members["stream_options"]?["include_usage"]?.boolValue ?? false,
            inputTokens: inputTokens,
            instructions: members["instructions"]?.stringValue,
            embeddingSeeds: embeddingSeeds,
            embeddingBase64: members["encoding_format"]?.stringValue == "base64",
            dimensions: dimensions,
            fingerprint: fingerprint
        )
    }

    /// Words in strings and one per number, skipping `role` and `type` members.
    static func countTokens(_ value: JSONValue) -> Int {
        switch value {
        case .null, .bool: return 0
        case .number: return 1
        case .string(let text): return countWords(text)
        case .array(let elements): return elements.reduce(0) { $0 + countTokens($1) }
        case .object(let members):
            var total = 0
            for (key, member) in members where key != "role" && key != "type" {
                total += countTokens(member)
            }
            return total
        }
    }

    static func countWords(_ text: String) -> Int {
        var count = 0
        var inWord = false
        for unit in text.utf8 {
            let isSpace = unit == 0x20 || unit == 0x09 || unit == 0x0A || unit == 0x0D
            if !isSpace && !inWord { count += 1 }
            inWord = !isSpace
        }
        return count
    }

    static let fnvOffsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    static let fnvPrime: UInt64 = 0x0000_0100_0000_01B3

    static func fnv1a(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var hash = fnvOffsetBasis
        for byte in bytes {
            hash ^= UInt64(byte)
            hash &*= fnvPrime
        }
        return hash
    }

    /// FNV-1a over a canonical rendering of a string or an array of strings and numbers.
    static func hash(_ value: JSONValue, into seed: UInt64) -> UInt64 {
        var hash = seed
        func mix(_ byte: UInt8) {
            hash ^= UInt64(byte)
            hash &*= fnvPrime
        }
        switch value {
        case .string(let text):
            mix(0x22)
            for unit in text.utf8 { mix(unit) }
        case .number(let number):
            mix(0x23)
            for unit in number.description.utf8 { mix(unit) }
        case .array(let elements):
            mix(0x5B)
            for element in elements { hash = Self.hash(element, into: hash) }
        default:
            mix(0x00)
        }
        return hash
    }
}
