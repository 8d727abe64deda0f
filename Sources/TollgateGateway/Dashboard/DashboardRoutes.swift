import Crypto
import Hummingbird
import NIOCore

/// `GET /dashboard` and its script, chart code and style sheet: the operator dashboard, a static page built into the
/// binary (`Dashboard/*` are embedded at build time, `resources: [.embedInCode(…)]`), that reads everything from the
/// REST API with the token the browser holds. The page and its assets need no token: they hold no data.
///
/// Each answer carries an ETag (the SHA-256 of its bytes, so it changes with the build) and is revalidated on every
/// load (`Cache-Control: no-cache`; `If-None-Match` answers 304), and the same strict Content-Security-Policy: scripts,
/// styles and API calls from this origin only, nothing inline, no frames.
struct DashboardRoutes {
    /// One embedded file and how it is served.
    struct Asset: Sendable {
        let route: Route
        let contentType: String
        let bytes: ByteBuffer
        let eTag: String

        init(_ route: Route, _ contentType: String, _ bytes: [UInt8]) {
            self.route = route
            self.contentType = contentType
            self.bytes = ByteBuffer(bytes: bytes)
            let digest = SHA256.hash(data: bytes).prefix(16).map { byte in
                let hex = String(byte, radix: 16)
                return byte < 16 ? "0" + hex : hex
            }
            self.eTag = "\"" + digest.joined() + "\""
        }
    }

    static let assets: [Asset] = [
        Asset(.dashboard, "text/html; charset=utf-8", PackageResources.index_html),
        Asset(.dashboardScript, "text/javascript; charset=utf-8", PackageResources.app_js),
        Asset(.dashboardCharts, "text/javascript; charset=utf-8", PackageResources.charts_js),
        Asset(.dashboardStyle, "text/css; charset=utf-8", PackageResources.style_css),
    ]

    /// Only this origin's scripts, styles and API; no inline script or style, no plugins, frames or form posts
    /// elsewhere.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

    func register(on router: Router<BasicRequestContext>) {
        for asset in Self.assets {
            router.on(asset.route, prefix: "") { request, _, _ in
                var headers: HTTPFields = [
                    .eTag: asset.eTag,
                    .cacheControl: "no-cache",
                    .contentSecurityPolicy: Self.contentSecurityPolicy,
                    .xContentTypeOptions: "nosniff",
                ]
                if let match = request.headers[.ifNoneMatch],
                    match.split(separator: ",").contains(where: { $0.filter { $0 != " " } == asset.eTag })
                {
                    return Response(status: .notModified, headers: headers)
                }
                headers[.contentType] = asset.contentType
                return Response(status: .ok, headers: headers, body: .init(byteBuffer: asset.bytes))
            }
        }
    }
}

extension Route {
    static let dashboard = Route(
        .get, "/dashboard",
        "The operator dashboard (HTML): usage, latency, providers and models, quota, spend limits and a log "
            + "explorer, read from this API with the token given as `#token=…` or signed in. No token needed.")
    static let dashboardScript = Route(
        .get, "/dashboard/app.js", "The dashboard's script. No token needed.")
    static let dashboardCharts = Route(
        .get, "/dashboard/charts.js", "The dashboard's SVG charts. No token needed.")
    static let dashboardStyle = Route(
        .get, "/dashboard/style.css", "The dashboard's style sheet. No token needed.")
}
