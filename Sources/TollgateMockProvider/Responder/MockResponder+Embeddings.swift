import NIOCore

/// OpenAI `POST /v1/embeddings`, as float arrays or (with `encoding_format: "base64"`) little-endian float32 bytes.
extension MockResponder {
    func embeddings(_ request: MockRequest, usage: Usage, allocator: ByteBufferAllocator) -> ByteBuffer {
        let dimensions = request.dimensions ?? configuration.embeddingDimensions
        var body = allocator.buffer(
            capacity: 256 + request.embeddingInputs * dimensions * (request.embeddingBase64 ? 6 : 7))
        body.writeStaticString(#"{"object":"list","data":["#)
        for input in 0..<request.embeddingInputs {
            if input > 0 { body.writeStaticString(",") }
            body.writeStaticString(#"{"object":"embedding","index":"#)
            body.writeDecimal(input)
            body.writeStaticString(#","embedding":"#)
            let values = embedding(request, input: input, dimensions: dimensions)
            if request.embeddingBase64 {
                var bytes: [UInt8] = []
                bytes.reserveCapacity(values.count * 4)
                for value in values {
                    let bits = value.bitPattern
                    bytes.append(UInt8(truncatingIfNeeded: bits))
                    bytes.append(UInt8(truncatingIfNeeded: bits >> 8))
                    bytes.append(UInt8(truncatingIfNeeded: bits >> 16))
                    bytes.append(UInt8(truncatingIfNeeded: bits >> 24))
                }
                body.writeStaticString("\"")
                body.writeBytes(Base64.encode(bytes))
                body.writeStaticString("\"")
            } else {
                body.writeStaticString("[")
                for (index, value) in values.enumerated() {
                    if index > 0 { body.writeStaticString(",") }
                    body.writeString(value.description)
                }
                body.writeStaticString("]")
            }
            body.writeStaticString("}")
        }
        body.writeStaticString(#"],"model":"#)
        body.writeJSONString(request.model)
        body.writeStaticString(#","usage":{"prompt_tokens":"#)
        body.writeDecimal(usage.input)
        body.writeStaticString(#","total_tokens":"#)
        body.writeDecimal(usage.input)
        body.writeStaticString("}}")
        return body
    }

    /// Values in [-1, 1] with three decimals, a pure function of the model, the input and the position.
    func embedding(_ request: MockRequest, input: Int, dimensions: Int) -> [Float] {
        var state = request.embeddingSeeds[input]
        return (0..<dimensions).map { _ in
            state = Self.mix(state)
            return Float(Int(state % 2001) - 1000) / 1000
        }
    }
}
