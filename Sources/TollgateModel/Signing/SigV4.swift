import Crypto

/// AWS Signature Version 4 (`AWS4-HMAC-SHA256`) in the header form: what the gateway puts on a Bedrock request it
/// signs with an account's stored key, and what the mock provider checks.
///
/// The steps, from AWS's "Create a signed AWS API request" (docs.aws.amazon.com/IAM/latest/UserGuide/
/// reference_sigv-create-signed-request.html):
///
///     canonical request = method \n canonical URI \n canonical query \n canonical headers \n signed headers \n
///                         hex(SHA-256(payload))
///     string to sign    = "AWS4-HMAC-SHA256" \n amz date \n {date}/{region}/{service}/aws4_request \n
///                         hex(SHA-256(canonical request))
///     signing key       = HMAC("AWS4" + secret, date) → region → service → "aws4_request"
///     signature         = hex(HMAC(signing key, string to sign))
///
/// The canonical URI is the path as it goes on the request line, URI-encoded once more (every byte but the
/// unreserved `A-Z a-z 0-9 - _ . ~` and `/`): a Bedrock model id's `:` travels as `%3A` and is signed as `%253A`, as
/// botocore and the other SDKs sign it for every service but S3. Paths are not normalized (no dot segments are
/// removed): Bedrock's have none, and the gateway signs the bytes it sends.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"

    /// An access key: the id goes in the `Credential` of the `Authorization`, the secret signs.
    public struct Credentials: Sendable, Hashable {
        public var accessKeyID: String
        public var secretAccessKey: String
        /// A temporary credential's session token, sent (and signed) as `x-amz-security-token`.
        public var sessionToken: String?

        public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
            self.accessKeyID = accessKeyID
            self.secretAccessKey = secretAccessKey
            self.sessionToken = sessionToken
        }
    }

    /// The request as it is sent: method, path and query as on the request line, and the headers to sign (each
    /// name once or more; `host` and `x-amz-date` among them).
    public struct Request: Sendable {
        public var method: String
        public var path: String
        /// The raw query string, without `?`; nil or empty for none.
        public var query: String?
        public var headers: [(name: String, value: String)]
        /// Lowercase hex SHA-256 of the exact body (`SigV4.payloadHash`).
        public var payloadHash: String

        public init(
            method: String, path: String, query: String?, headers: [(name: String, value: String)],
            payloadHash: String
        ) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.payloadHash = payloadHash
        }
    }

    /// Where and when a signature applies.
    public struct Scope: Sendable, Hashable {
        /// `yyyyMMdd'T'HHmmss'Z'`, the value of `x-amz-date`.
        public var amzDate: String
        public var region: String
        public var service: String

        public init(amzDate: String, region: String, service: String) {
            self.amzDate = amzDate
            self.region = region
            self.service = service
        }

        /// `{yyyyMMdd}/{region}/{service}/aws4_request`.
        public var credentialScope: String { "\(amzDate.prefix(8))/\(region)/\(service)/aws4_request" }
    }

    /// A computed signature with the texts it came from (for tests and diagnostics; never logged).
    public struct Signature: Sendable {
        public var canonicalRequest: String
        public var stringToSign: String
        /// `host;x-amz-date;…`: the signed header names, lowercase and sorted.
        public var signedHeaders: String
        /// 64 lowercase hex digits.
        public var signature: String
        /// The `Authorization` header value.
        public var authorization: String
    }

    /// Signs `request` for `scope` with `credentials`.
    public static func sign(_ request: Request, scope: Scope, credentials: Credentials) -> Signature {
        let (canonical, signedHeaders) = canonicalRequest(request)
        let stringToSign = [
            algorithm, scope.amzDate, scope.credentialScope,
            Hex.lowercase(Array(SHA256.hash(data: Array(canonical.utf8)))),
        ].joined(separator: "\n")
        let key = signingKey(secret: credentials.secretAccessKey, scope: scope)
        let signature = Hex.lowercase(hmac(key: key, Array(stringToSign.utf8)))
        let authorization =
            "\(algorithm) Credential=\(credentials.accessKeyID)/\(scope.credentialScope), "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        return Signature(
            canonicalRequest: canonical, stringToSign: stringToSign, signedHeaders: signedHeaders,
            signature: signature, authorization: authorization)
    }

    /// Lowercase hex SHA-256 of a body.
    public static func payloadHash(_ body: some Sequence<UInt8>) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(body))
        return Hex.lowercase(Array(hasher.finalize()))
    }

    /// Lowercase hex SHA-256 of a body in memory.
    public static func payloadHash(_ body: UnsafeRawBufferPointer) -> String {
        Hex.lowercase(Array(SHA256.hash(data: body)))
    }

    /// `x-amz-date` for a Unix time in milliseconds: `yyyyMMdd'T'HHmmss'Z'` (UTC).
    public static func amzDate(unixMilliseconds: Int64) -> String {
        let seconds = unixMilliseconds >= 0 ? unixMilliseconds / 1000 : (unixMilliseconds - 999) / 1000
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = RFC3339.civil(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(year)\(two(month))\(two(day))T\(two(secondOfDay / 3600))\(two(secondOfDay / 60 % 60))"
            + "\(two(secondOfDay % 60))Z"
    }

    /// The canonical request and its signed header list.
    public static func canonicalRequest(_ request: Request) -> (text: String, signedHeaders: String) {
        var grouped: [String: [String]] = [:]
        for (name, value) in request.headers {
            grouped[name.lowercased(), default: []].append(trimmedValue(value))
        }
        let names = grouped.keys.sorted()
        var headerLines = ""
        for name in names {
            headerLines += name + ":" + grouped[name]!.joined(separator: ",") + "\n"
        }
        let signedHeaders = names.joined(separator: ";")
        let text = [
            request.method, canonicalURI(request.path), canonicalQuery(request.query), headerLines, signedHeaders,
            request.payloadHash,
        ].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// The path URI-encoded once more, `/` kept.
    static func canonicalURI(_ path: String) -> String {
        path.isEmpty ? "/" : uriEncode(path, keepingSlash: true)
    }

    /// Parameters decoded, encoded strictly, sorted by name then value, joined with `&`.
    static func canonicalQuery(_ query: String?) -> String {
        guard let query, !query.isEmpty else { return "" }
        var pairs: [(String, String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = part.firstIndex(of: "=") {
                name = part[..<equals]
                value = part[part.index(after: equals)...]
            } else {
                name = part
                value = ""
            }
            pairs.append(
                (
                    uriEncode(PercentDecoding.decoded(name), keepingSlash: false),
                    uriEncode(PercentDecoding.decoded(value), keepingSlash: false)
                )
            )
        }
        pairs.sort {
            $0.0 == $1.0
                ? $0.1.utf8.lexicographicallyPrecedes($1.1.utf8) : $0.0.utf8.lexicographicallyPrecedes($1.0.utf8)
        }
        return pairs.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
    }

    /// Leading and trailing spaces dropped, runs of spaces inside made one.
    static func trimmedValue(_ value: String) -> String {
        var out: [UInt8] = []
        var pendingSpace = false
        for byte in value.utf8 {
            if byte == 0x20 || byte == 0x09 {
                pendingSpace = !out.isEmpty
                continue
            }
            if pendingSpace { out.append(0x20) }
            pendingSpace = false
            out.append(byte)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// RFC 3986 percent-encoding of every byte but the unreserved ones (and `/` when kept), uppercase hex.
    static func uriEncode(_ text: some StringProtocol, keepingSlash: Bool) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."),
                UInt8(ascii: "~"):
                out.append(byte)
            case UInt8(ascii: "/") where keepingSlash:
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    static func signingKey(secret: String, scope: Scope) -> [UInt8] {
        var key = hmac(key: Array(("AWS4" + secret).utf8), Array(scope.amzDate.prefix(8).utf8))
        key = hmac(key: key, Array(scope.region.utf8))
        key = hmac(key: key, Array(scope.service.utf8))
        return hmac(key: key, Array("aws4_request".utf8))
    }

    static func hmac(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: message, using: SymmetricKey(data: key)))
    }
}
