import NIOCore
import NIOHTTP1

/// Error bodies in each provider's shape.
///
/// OpenAI: `{"error":{"message":…,"type":…,"param":null,"code":…}}`.
/// Anthropic: `{"type":"error","error":{"type":…,"message":…},"request_id":…}`.
/// Workers AI's REST run (`cloudflareEnvelope`): Cloudflare's v4 envelope,
/// `{"result":null,"success":false,"errors":[{"code":…,"message":…}],"messages":[]}`; the mock's `code` is the
/// HTTP status (Cloudflare's own codes are not imitated).
extension MockResponder {
    func errorReply(
        status: Int, message: String, family: Family, requestID: UInt64, fault: MockFault,
        allocator: ByteBufferAllocator, cloudflareEnvelope: Bool = false
    ) -> MockReply {
        var headers = baseHeaders(family: family, stream: false, requestID: requestID, fault: fault)
        var body = allocator.buffer(capacity: 192 + message.utf8.count)
        switch family {
        case .openAI where cloudflareEnvelope:
            body.writeStaticString(#"{"result":null,"success":false,"errors":[{"code":"#)
            body.writeDecimal(status)
            body.writeStaticString(#","message":"#)
            body.writeJSONString(message)
            body.writeStaticString(#"}],"messages":[]}"#)
        case .openAI:
            let (type, code) = Self.openAIErrorKind(status)
            body.writeStaticString(#"{"error":{"message":"#)
            body.writeJSONString(message)
            body.writeStaticString(#","type":"#)
            body.writeJSONString(type)
            body.writeStaticString(#","param":null,"code":"#)
            if let code { body.writeJSONString(code) } else { body.writeStaticString("null") }
            body.writeStaticString("}}")
        case .anthropic:
            body.writeStaticString(#"{"type":"error","error":{"type":"#)
            body.writeJSONString(Self.anthropicErrorType(status))
            body.writeStaticString(#","message":"#)
            body.writeJSONString(message)
            body.writeStaticString(#"},"request_id":"#)
            body.writeJSONString("req_" + hex(requestID))
            body.writeStaticString("}")
        case .google:
            writeGoogleError(status: status, message: message, into: &body)
        case .bedrock:
            return awsErrorReply(
                status: status, type: Self.awsErrorType(status), message: message, requestID: requestID,
                allocator: allocator, fault: fault)
        }
        if let retryAfter = fault.retryAfter { headers.add(name: "retry-after", value: String(retryAfter)) }
        headers.add(name: "content-length", value: String(body.readableBytes))
        return MockReply(
            status: HTTPResponseStatus(statusCode: status), headers: headers, body: .full(body), fault: fault)
    }

    static func openAIErrorKind(_ status: Int) -> (type: String, code: String?) {
        switch status {
        case 401: ("invalid_request_error", "invalid_api_key")
        case 403: ("invalid_request_error", "unsupported_country_region_territory")
        case 404: ("invalid_request_error", nil)
        case 429: ("requests", "rate_limit_exceeded")
        case 500...: ("server_error", nil)
        default: ("invalid_request_error", nil)
        }
    }

    static func anthropicErrorType(_ status: Int) -> String {
        switch status {
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 529: "overloaded_error"
        case 500...: "api_error"
        default: "invalid_request_error"
        }
    }
}
