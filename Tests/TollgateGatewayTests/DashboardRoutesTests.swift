import Foundation
import Testing

@testable import TollgateGateway

/// The dashboard's page and assets: served from the bytes built into the binary, without a token, each with its
/// content type, an ETag, and the strict Content-Security-Policy; the page loads nothing from elsewhere and runs
/// nothing inline. (The page itself is driven in a browser by `Tests/Interop/test_dashboard.py`.)
@Suite struct DashboardRoutesTests {
    @Test func assetsAreServedWithoutTokenWithTypeETagAndPolicy() async throws {
        let harness = try await GatewayHarness.start()
        defer { Task { try? await harness.stop() } }
        for asset in DashboardRoutes.assets {
            let answer = try await harness.request("GET", asset.route.path)
            #expect(answer.status == 200, "\(asset.route.path)")
            #expect(answer.headers["content-type"] == asset.contentType)
            #expect(answer.headers["etag"] == asset.eTag)
            #expect(answer.headers["cache-control"] == "no-cache")
            #expect(answer.headers["x-content-type-options"] == "nosniff")
            #expect(answer.headers["content-security-policy"] == DashboardRoutes.contentSecurityPolicy)
            #expect(answer.body == Data(asset.bytes.readableBytesView))
            #expect(answer.body.count > 500, "\(asset.route.path) is the real file")
            let again = try await harness.request(
                "GET", asset.route.path, headers: ["If-None-Match": "\"other\", \(asset.eTag)"])
            #expect(again.status == 304, "\(asset.route.path)")
            #expect(again.body.isEmpty)
        }
        // Declared routes: an undeclared parameter is refused, as everywhere.
        #expect(try await harness.request("GET", "/dashboard?token=x").status == 400)
        #expect(try await harness.request("GET", "/dashboard/other.js").status == 404)
        try await harness.stop()
    }

    @Test func pageLoadsOnlyItsOwnAssetsAndNothingInline() throws {
        let policy = DashboardRoutes.contentSecurityPolicy
        #expect(policy.contains("default-src 'none'") && policy.contains("script-src 'self'"))
        #expect(!policy.contains("unsafe"))
        let page = try #require(DashboardRoutes.assets.first { $0.route.name == Route.dashboard.name })
        let html = String(buffer: page.bytes)
        let served = Set(DashboardRoutes.assets.map(\.route.path))
        // Every src and href is one of the dashboard's routes (or the empty data: icon), never another origin.
        var references: [String] = []
        for attribute in ["src=\"", "href=\""] {
            var rest = html[...]
            while let start = rest.range(of: attribute) {
                let tail = rest[start.upperBound...]
                guard let end = tail.firstIndex(of: "\"") else { break }
                references.append(String(tail[..<end]))
                rest = tail[end...]
            }
        }
        #expect(references.count == 4, "\(references)")
        for reference in references {
            #expect(served.contains(reference) || reference == "data:,", "\(reference)")
        }
        // No inline script, handler or style attribute: the policy would refuse them.
        #expect(html.components(separatedBy: "<script").count == html.components(separatedBy: "<script src=").count)
        #expect(!html.contains(" style=") && !html.contains("<style"))
        #expect(!html.contains(" onclick=") && !html.contains(" onload=") && !html.contains("javascript:"))
    }
}
