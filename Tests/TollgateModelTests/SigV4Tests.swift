import Testing

@testable import TollgateModel

/// SigV4 against AWS's published Signature Version 4 test suite ("aws-sig-v4-test-suite", once in the AWS General
/// Reference, now carried by awslabs/aws-c-auth under `tests/aws-signing-test-suite/v4/{case}/`: each case's
/// request, canonical request, string to sign and signed request). Every case signs with access key `AKIDEXAMPLE`,
/// secret `wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY`, region `us-east-1`, service `service`, at
/// `20150830T123600Z`. The expected values below are the suite's, copied from those files.
@Suite("SigV4")
struct SigV4Tests {
    static let credentials = SigV4.Credentials(
        accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let scope = SigV4.Scope(amzDate: "20150830T123600Z", region: "us-east-1", service: "service")
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    struct Vector: Sendable, CustomTestStringConvertible {
        var name: String
        var method: String
        var path: String
        var query: String?
        /// Besides `Host: example.amazonaws.com` and `X-Amz-Date: 20150830T123600Z`.
        var headers: [(name: String, value: String)]
        var body: String
        var canonicalRequest: String
        var stringToSign: String
        var signature: String

        var testDescription: String { name }
    }

    static let vectors: [Vector] = [
        Vector(
            name: "get-vanilla", method: "GET", path: "/", query: nil, headers: [], body: "",
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + emptyHash,
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"),
        Vector(
            name: "post-vanilla", method: "POST", path: "/", query: nil, headers: [], body: "",
            canonicalRequest: "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + emptyHash,
            stringToSign: "", signature: "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        Vector(
            name: "get-vanilla-query-order-key-case", method: "GET", path: "/", query: "Param2=value2&Param1=value1",
            headers: [], body: "",
            canonicalRequest: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\n"
                + "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" + emptyHash,
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"),
        Vector(
            name: "get-vanilla-query-unreserved", method: "GET", path: "/",
            query: "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz="
                + "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
            headers: [], body: "", canonicalRequest: "", stringToSign: "",
            signature: "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"),
        Vector(
            name: "get-vanilla-utf8-query", method: "GET", path: "/", query: "ሴ=bar", headers: [], body: "",
            canonicalRequest: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                + "host;x-amz-date\n" + emptyHash,
            stringToSign: "", signature: "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04"),
        Vector(
            name: "get-utf8", method: "GET", path: "/ሴ", query: nil, headers: [], body: "",
            canonicalRequest: "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
                + "host;x-amz-date\n" + emptyHash,
            stringToSign: "", signature: "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"),
        Vector(
            name: "get-space-unnormalized", method: "GET", path: "/example space/", query: nil, headers: [], body: "",
            canonicalRequest: "", stringToSign: "",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"),
        Vector(
            name: "get-header-key-duplicate", method: "GET", path: "/", query: nil,
            headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")], body: "",
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + emptyHash,
            stringToSign: "", signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea"),
        Vector(
            name: "get-header-value-trim", method: "GET", path: "/", query: nil,
            headers: [("My-Header1", " value1"), ("My-Header2", #" "a   b   c""#)], body: "",
            canonicalRequest: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" + emptyHash,
            stringToSign: "", signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"),
        Vector(
            name: "post-header-value-case", method: "POST", path: "/", query: nil, headers: [("My-Header1", "VALUE1")],
            body: "", canonicalRequest: "", stringToSign: "",
            signature: "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d"),
        // The suite's current form of this case signs the content length and hash as well.
        Vector(
            name: "post-x-www-form-urlencoded", method: "POST", path: "/", query: nil,
            headers: [
                ("Content-Type", "application/x-www-form-urlencoded"), ("Content-Length", "13"),
                ("x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
            ],
            body: "Param1=value1",
            canonicalRequest: "POST\n/\n\ncontent-length:13\ncontent-type:application/x-www-form-urlencoded\n"
                + "host:example.amazonaws.com\n"
                + "x-amz-content-sha256:9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e\n"
                + "x-amz-date:20150830T123600Z\n\n"
                + "content-length;content-type;host;x-amz-content-sha256;x-amz-date\n"
                + "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            stringToSign: "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
                + "b1edd1d03544c25390e32085d55b57acc9a3961bb59415ff86c45c3d89d16cfb",
            signature: "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b"),
    ]

    static func request(_ vector: Vector) -> SigV4.Request {
        SigV4.Request(
            method: vector.method, path: vector.path, query: vector.query,
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")] + vector.headers,
            payloadHash: SigV4.payloadHash(Array(vector.body.utf8)))
    }

    @Test(arguments: vectors)
    func signsAsTheSuiteSays(_ vector: Vector) {
        let signed = SigV4.sign(Self.request(vector), scope: Self.scope, credentials: Self.credentials)
        if !vector.canonicalRequest.isEmpty { #expect(signed.canonicalRequest == vector.canonicalRequest) }
        if !vector.stringToSign.isEmpty { #expect(signed.stringToSign == vector.stringToSign) }
        #expect(signed.signature == vector.signature)
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=\(signed.signedHeaders), Signature=\(vector.signature)")
    }

    @Test(arguments: vectors)
    func verifiesTheSuitesSignedRequests(_ vector: Vector) throws {
        let request = Self.request(vector)
        let authorization =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(SigV4.canonicalRequest(request).signedHeaders), Signature=\(vector.signature)"
        let headers = request.headers + [("Authorization", authorization)]
        let verified = try SigV4.verify(
            method: vector.method, path: vector.path, query: vector.query, headers: headers,
            payloadHash: request.payloadHash, credentials: Self.credentials)
        #expect(verified.region == "us-east-1" && verified.service == "service")

        // Another secret, or a changed body, does not verify.
        let other = SigV4.Credentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "another-secret")
        #expect(throws: SigV4.VerificationFailure.self) {
            try SigV4.verify(
                method: vector.method, path: vector.path, query: vector.query, headers: headers,
                payloadHash: request.payloadHash, credentials: other)
        }
        #expect(throws: SigV4.VerificationFailure.self) {
            try SigV4.verify(
                method: vector.method, path: vector.path, query: vector.query, headers: headers,
                payloadHash: SigV4.payloadHash(Array("tampered".utf8)), credentials: Self.credentials)
        }
    }

    /// A Bedrock model id's `:` is sent as `%3A` and signed as `%253A`, as botocore signs it.
    @Test func bedrockPathsAreEncodedOnceMoreInTheCanonicalRequest() {
        #expect(
            SigV4.canonicalURI("/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse")
                == "/model/anthropic.claude-3-haiku-20240307-v1%253A0/converse")
        #expect(SigV4.canonicalURI("") == "/")
    }

    @Test func amzDateIsUTC() {
        #expect(SigV4.amzDate(unixMilliseconds: 1_440_938_160_000) == "20150830T123600Z")
        #expect(SigV4.amzDate(unixMilliseconds: 0) == "19700101T000000Z")
        #expect(SigV4.amzDate(unixMilliseconds: 1_796_310_059_999) == "20261203T150059Z")
    }

    @Test func authorizationHeaderParses() throws {
        let parsed = try #require(
            SigV4.Authorization(
                "AWS4-HMAC-SHA256 Credential=AKID/20261203/eu-west-1/bedrock/aws4_request, "
                    + "SignedHeaders=host;x-amz-date, Signature=" + String(repeating: "a", count: 64)))
        #expect(parsed.accessKeyID == "AKID" && parsed.region == "eu-west-1" && parsed.service == "bedrock")
        #expect(parsed.signedHeaders == ["host", "x-amz-date"])
        #expect(SigV4.Authorization("Bearer abc") == nil)
        #expect(SigV4.Authorization("AWS4-HMAC-SHA256 Credential=AKID/2026/x/aws4_request") == nil)
    }
}
