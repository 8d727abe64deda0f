import NIOCore
import Testing
import TollgateModel

@testable import TollgateGateway

@Suite("Proxy parsing")
struct ProxyParsingTests {
    @Test func routeSplitsAccountGatewayProviderPathAndQuery() throws {
        let route = try #require(ProxyRoute(uri: "/v1/acme/prod/openai/chat/completions?a=1&b=2"))
        #expect(route.account == "acme")
        #expect(route.gateway == "prod")
        #expect(route.provider == "openai")
        #expect(route.path == "/chat/completions")
        #expect(route.query == "a=1&b=2")
        let bare = try #require(ProxyRoute(uri: "/v1/acme/prod/openai"))
        #expect(bare.path == "/")
        #expect(bare.query == nil)
        #expect(ProxyRoute(uri: "/v1/acme/prod") == nil)
        #expect(ProxyRoute(uri: "/v1/acme//openai/x") == nil)
        #expect(ProxyRoute(uri: "/api/v1/accounts") == nil)
        #expect(ProxyRoute.isProxyURI("/v1/x"))
        #expect(!ProxyRoute.isProxyURI("/v10/x"))
    }

    @Test func upstreamTargetFromBaseURL() throws {
        let openai = try #require(UpstreamTarget(baseURL: "https://api.openai.com/v1"))
        #expect(openai.endpoint == .init(host: "api.openai.com", port: 443, tls: true))
        #expect(openai.basePath == "/v1")
        #expect(openai.hostHeader == "api.openai.com")
        #expect(!openai.hostIsIPAddress)
        let local = try #require(UpstreamTarget(baseURL: "http://127.0.0.1:9090/"))
        #expect(local.endpoint == .init(host: "127.0.0.1", port: 9090, tls: false))
        #expect(local.basePath == "")
        #expect(local.hostHeader == "127.0.0.1:9090")
        #expect(local.hostIsIPAddress)
        let v6 = try #require(UpstreamTarget(baseURL: "http://[::1]:8080/api"))
        #expect(v6.endpoint.host == "::1")
        #expect(v6.hostHeader == "[::1]:8080")
        #expect(UpstreamTarget(baseURL: "ftp://x") == nil)
        #expect(UpstreamTarget(baseURL: "http://:80") == nil)
        #expect(UpstreamTarget(baseURL: "http://host:99999") == nil)
    }

    @Test func hopByHopAndGatewayHeaders() {
        for name in [
            "Connection", "keep-alive", "TE", "Trailer", "Transfer-Encoding", "Upgrade", "Proxy-Authorization",
            "proxy-connection",
        ] {
            #expect(ProxyHeaders.isHopByHop(name), "\(name)")
        }
        for name in ["content-type", "authorization", "x-api-key", "trailers", "tee", "proxy"] {
            #expect(!ProxyHeaders.isHopByHop(name), "\(name)")
        }
        // The same names read as bytes (an upstream's response fields).
        for name in ["Connection", "TE", "Transfer-Encoding", "Proxy-Authorization", "tee", "proxy", "trailers"] {
            let bytes = Array(name.utf8)
            #expect(
                bytes.withUnsafeBufferPointer { ProxyHeaders.isHopByHop($0) } == ProxyHeaders.isHopByHop(name),
                "\(name)")
        }
        #expect(ProxyHeaders.isGatewayHeader("CF-AIG-Metadata"))
        #expect(!ProxyHeaders.isGatewayHeader("cf-ray"))
        #expect(ProxyHeaders.nameEquals("Content-Length", "content-length"))
    }

    @Test func metadataHeader() throws {
        #expect(
            try MetadataHeader.parse(#" {"a":"x","b":-1.5e2,"c":true,"d":false} "#) == [
                MetadataEntry("a", .string("x")), MetadataEntry("b", .number(-150)), MetadataEntry("c", .bool(true)),
                MetadataEntry("d", .bool(false)),
            ])
        #expect(try MetadataHeader.parse(#"{"u":"\u00e9\n"}"#) == [MetadataEntry("u", .string("é\n"))])
        #expect(try MetadataHeader.parse("{}") == [])
        for bad in [
            "", "[]", #"{"a":null}"#, #"{"a":[1]}"#, #"{"a":1,}"#, #"{"a":1} x"#, #"{"a":01x}"#,
            #"{"1":1,"2":2,"3":3,"4":4,"5":5,"6":6}"#,
        ] {
            #expect(throws: ModelError.self, "\(bad)") { try MetadataHeader.parse(bad) }
        }
    }

    @Test func errorBodyIsEscapedJSON() {
        var buffer = ByteBuffer()
        buffer.writeJSONEscaped("a \"b\" \\ \n\u{01}")
        #expect(String(buffer: buffer) == #"a \"b\" \\ \n\u0001"#)
    }
}
