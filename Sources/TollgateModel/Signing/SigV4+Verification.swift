extension SigV4 {
    /// The parts of an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` header.
    public struct Authorization: Sendable, Equatable {
        public var accessKeyID: String
        /// `yyyyMMdd` of the credential scope.
        public var date: String
        public var region: String
        public var service: String
        /// Lowercase names, in the order the header lists them.
        public var signedHeaders: [String]
        public var signature: String

        /// Parses the header value; nil when it is not a SigV4 header authorization.
        public init?(_ value: String) {
            guard value.hasPrefix(SigV4.algorithm + " ") else { return nil }
            var credential: Substring?
            var signed: Substring?
            var signature: Substring?
            for part in value.dropFirst(SigV4.algorithm.utf8.count + 1).split(separator: ",") {
                let item = part.drop(while: { $0 == " " })
                if item.hasPrefix("Credential=") {
                    credential = item.dropFirst("Credential=".count)
                } else if item.hasPrefix("SignedHeaders=") {
                    signed = item.dropFirst("SignedHeaders=".count)
                } else if item.hasPrefix("Signature=") {
                    signature = item.dropFirst("Signature=".count)
                }
            }
            guard let credential, let signed, let signature, !signed.isEmpty, signature.utf8.count == 64 else {
                return nil
            }
            let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
            guard scope.count == 5, scope[4] == "aws4_request", !scope[0].isEmpty, scope[1].utf8.count == 8 else {
                return nil
            }
            self.accessKeyID = String(scope[0])
            self.date = String(scope[1])
            self.region = String(scope[2])
            self.service = String(scope[3])
            self.signedHeaders = signed.split(separator: ";").map { $0.lowercased() }
            self.signature = String(signature)
        }
    }

    /// Why a request's signature does not verify; `message` says it the way AWS would.
    public struct VerificationFailure: Error, Sendable, Equatable, CustomStringConvertible {
        public enum Reason: Sendable, Equatable {
            /// No `Authorization`, or not a SigV4 one.
            case missingAuthorization
            /// Signed with another access key id.
            case unknownAccessKey
            /// No `x-amz-date`, or one that does not match the credential scope's date.
            case badDate
            /// A header the signature needs (`host`, `x-amz-date`) is not signed, or a signed one is absent.
            case headers
            /// `x-amz-content-sha256` does not match the body.
            case payloadHash
            case signatureMismatch
        }

        public var reason: Reason
        public var message: String
        public var description: String { message }
    }

    /// Checks a received request's header signature against `credentials` (the access key id must match too).
    /// `path` and `query` as on the request line; `headers` all of the request's; `payloadHash` of the body as
    /// received.
    @discardableResult
    public static func verify(
        method: String, path: String, query: String?, headers: [(name: String, value: String)], payloadHash: String,
        credentials: Credentials
    ) throws(VerificationFailure) -> Authorization {
        func value(_ name: String) -> [String] {
            headers.filter { $0.name.lowercased() == name }.map(\.value)
        }
        guard let header = value("authorization").first, let authorization = Authorization(header) else {
            throw VerificationFailure(
                reason: .missingAuthorization,
                message: "Authorization header requires 'Credential', 'Signature' and 'SignedHeaders' parameters "
                    + "(AWS4-HMAC-SHA256).")
        }
        guard authorization.accessKeyID == credentials.accessKeyID else {
            throw VerificationFailure(
                reason: .unknownAccessKey, message: "The security token included in the request is invalid.")
        }
        guard let amzDate = value("x-amz-date").first, amzDate.hasPrefix(authorization.date) else {
            throw VerificationFailure(
                reason: .badDate, message: "The request's X-Amz-Date is missing or does not match its credential scope."
            )
        }
        let signed = authorization.signedHeaders
        guard signed.contains("host"), signed.contains("x-amz-date") else {
            throw VerificationFailure(reason: .headers, message: "host and x-amz-date must be signed.")
        }
        var signedValues: [(name: String, value: String)] = []
        for name in signed {
            let values = value(name)
            guard !values.isEmpty else {
                throw VerificationFailure(reason: .headers, message: "The signed header \(name) is not in the request.")
            }
            for value in values { signedValues.append((name, value)) }
        }
        if let declared = value("x-amz-content-sha256").first, declared != payloadHash {
            throw VerificationFailure(
                reason: .payloadHash,
                message: "The provided 'x-amz-content-sha256' header does not match what was computed.")
        }
        let expected = sign(
            Request(method: method, path: path, query: query, headers: signedValues, payloadHash: payloadHash),
            scope: Scope(amzDate: amzDate, region: authorization.region, service: authorization.service),
            credentials: credentials)
        guard expected.signature == authorization.signature else {
            throw VerificationFailure(
                reason: .signatureMismatch,
                message: "The request signature we calculated does not match the signature you provided. Check your "
                    + "AWS Secret Access Key and signing method. Consult the service documentation for details.")
        }
        return authorization
    }
}
