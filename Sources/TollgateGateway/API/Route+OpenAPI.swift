import NIOCore
import TollgateModel

/// The API's OpenAPI 3.1 document, written from the route declarations: every path and method of `Route.all`, its
/// path and query parameters with their types and ranges, its JSON body with its fields, its success response, the
/// JSON error shape, and the bearer token it needs.
///
/// `GET /api/v1/openapi.json` serves it (no token needed: it describes routes, never data), `tollgate openapi`
/// prints it, and `openapi.json` beside this file is a committed copy a test compares with it (`scripts/openapi.sh`
/// rewrites the copy), so a route added or changed without the copy fails the tests.
extension APIRouter {
    /// The document as pretty-printed JSON, keys in a fixed order, ending with a newline.
    public static func openAPIDocument(version: String = "1") -> String {
        let doc = OpenAPIWriter()
        doc.object {
            doc.field("openapi", "3.1.0")
            doc.key("info")
            doc.object {
                doc.field("title", "Tollgate REST API")
                doc.field("version", version)
                doc.field(
                    "description",
                    "The management API of a Tollgate gateway: accounts, gateways, tokens, logs, usage, reports, "
                        + "prices. Every error is `{\"error\":{\"code\",\"message\"}}`. Routes under /api/v1 take "
                        + "`Authorization: Bearer <token>`: the admin token, or an account token on its own "
                        + "account's logs, usage, reports and quota.")
            }
            doc.key("paths")
            doc.object {
                var paths: [String] = []
                for route in Route.all where !paths.contains(route.path) { paths.append(route.path) }
                for path in paths {
                    doc.key(path)
                    doc.object {
                        for route in Route.all where route.path == path {
                            doc.key(route.method.rawValue.lowercased())
                            route.writeOperation(doc)
                        }
                    }
                }
            }
            doc.key("components")
            doc.object {
                doc.key("securitySchemes")
                doc.object {
                    doc.key("bearer")
                    doc.object {
                        doc.field("type", "http")
                        doc.field("scheme", "bearer")
                        doc.field(
                            "description", "The admin token (TOLLGATE_ADMIN_TOKEN) or an account token (`tg_…`).")
                    }
                }
                doc.key("schemas")
                doc.object {
                    doc.key("Error")
                    doc.object {
                        doc.field("type", "object")
                        doc.strings("required", ["error"])
                        doc.key("properties")
                        doc.object {
                            doc.key("error")
                            doc.object {
                                doc.field("type", "object")
                                doc.strings("required", ["code", "message"])
                                doc.key("properties")
                                doc.object {
                                    doc.key("code")
                                    doc.object {
                                        doc.field("type", "string")
                                        doc.field("description", "machine-readable, e.g. `invalid_parameter`")
                                    }
                                    doc.key("message")
                                    doc.object {
                                        doc.field("type", "string")
                                        doc.field("description", "names the parameter at fault first")
                                    }
                                }
                            }
                        }
                    }
                    doc.key("CloudflareError")
                    doc.object {
                        doc.field("type", "object")
                        doc.strings("required", ["success", "errors", "messages", "result"])
                        doc.field(
                            "description",
                            "Cloudflare's envelope for an error: `success` false, `errors` `[{\"code\",\"message\"}]` "
                                + "(`code` the HTTP status, `message` Tollgate's error code first), `result` null.")
                    }
                }
                doc.key("responses")
                doc.object {
                    for shape in ["", "Cloudflare"] {
                        for (name, text) in OpenAPIErrors.all {
                            doc.key(shape + name)
                            doc.object {
                                doc.field("description", text)
                                doc.key("content")
                                doc.object {
                                    doc.key("application/json")
                                    doc.object {
                                        doc.key("schema")
                                        doc.object { doc.field("$ref", "#/components/schemas/\(shape)Error") }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return doc.text + "\n"
    }
}

/// The error responses the document names, each with the JSON error shape.
enum OpenAPIErrors {
    static let all: [(String, String)] = [
        (
            "BadRequest",
            "A parameter or body field is unknown, repeated, missing or of the wrong type; the message names it."
        ),
        ("Unauthorized", "No bearer token, or one that is neither the admin token nor a valid account token."),
        ("Forbidden", "An account token on a route that needs the admin token."),
        ("NotFound", "The account, gateway, log, token or price does not exist (or is another account's)."),
        ("Conflict", "The id is taken."),
        ("Error", "Any other error, in the same shape."),
    ]
}

/// What a route answers on success, as the handlers write it.
struct OpenAPISuccess {
    enum Body {
        /// A JSON object with these top-level members (the handlers' JSON writers), none promised present.
        case object([String])
        /// `{"<key>":[…]}`, a list of objects.
        case list(String)
        /// Bytes of any type (a stored request or response body, a CSV report).
        case any
        /// No body.
        case none
        /// Plain text (the Prometheus exposition format).
        case text
        /// A file of this media type (the dashboard's page, script, charts and style sheet).
        case file(String)
    }

    let status: Int
    let body: Body

    /// The members `JSONWriter.account` writes.
    /// The members `JSONWriter.customProvider` writes.
    static let customProvider = ["slug", "provider", "account", "base_url", "api", "created_at", "updated_at"]
    /// The members `JSONWriter.providerKey` writes.
    static let providerKey = ["id", "account", "provider", "alias", "preview", "created_at"]
    static let account = [
        "id", "tier", "log_limit", "log_management_strategy", "retention_days", "created_at",
    ]
    /// Cloudflare's envelope, which the `/client/v4` routes answer in (`cloudflare(result:info:)`).
    static let cloudflare = ["success", "errors", "messages", "result"]
    /// The members `JSONWriter.gateway` writes.
    static let gateway = [
        "id", "account", "collect_logs", "stream_usage", "authentication", "retention_days", "cache_ttl",
        "cache_invalidate_on_update", "rate_limiting_limit", "rate_limiting_interval", "rate_limiting_technique",
        "rate_limiting_key", "request_timeout", "retry_max_attempts", "retry_delay", "retry_backoff", "spend_limits",
        "created_at",
    ]

    /// By route name. Every route of `Route.all` has one (a test checks).
    static let byRoute: [String: OpenAPISuccess] = [
        Route.healthz.name: .init(status: 200, body: .object(["status"])),
        Route.readyz.name: .init(status: 200, body: .object(["status", "reason", "since"])),
        Route.createAccount.name: .init(status: 201, body: .object(account)),
        Route.listAccounts.name: .init(status: 200, body: .list("accounts")),
        Route.getAccount.name: .init(status: 200, body: .object(account)),
        Route.updateAccount.name: .init(status: 200, body: .object(account)),
        Route.quota.name: .init(status: 200, body: .object([])),
        Route.createGateway.name: .init(status: 201, body: .object(gateway)),
        Route.listGateways.name: .init(status: 200, body: .list("gateways")),
        Route.getGateway.name: .init(status: 200, body: .object(gateway)),
        Route.updateGateway.name: .init(status: 200, body: .object(gateway)),
        Route.deleteGateway.name: .init(status: 200, body: .object(["deleted", "logs_deleted"])),
        Route.gatewaySpend.name: .init(status: 200, body: .object([])),
        Route.createCustomProvider.name: .init(status: 201, body: .object(customProvider)),
        Route.listCustomProviders.name: .init(status: 200, body: .list("custom_providers")),
        Route.getCustomProvider.name: .init(status: 200, body: .object(customProvider)),
        Route.updateCustomProvider.name: .init(status: 200, body: .object(customProvider)),
        Route.deleteCustomProvider.name: .init(status: 204, body: .none),
        Route.createProviderKey.name: .init(status: 201, body: .object(providerKey)),
        Route.listProviderKeys.name: .init(status: 200, body: .list("provider_keys")),
        Route.deleteProviderKey.name: .init(status: 204, body: .none),
        Route.createToken.name: .init(status: 201, body: .object(["id", "token", "account", "created_at"])),
        Route.listTokens.name: .init(status: 200, body: .list("tokens")),
        Route.revokeToken.name: .init(status: 204, body: .none),
        Route.listLogs.name: .init(status: 200, body: .object(["logs", "next_cursor"])),
        Route.getLog.name: .init(status: 200, body: .object([])),
        Route.getLogRequest.name: .init(status: 200, body: .any),
        Route.getLogResponse.name: .init(status: 200, body: .any),
        Route.patchLog.name: .init(status: 200, body: .object([])),
        Route.deleteLogs.name: .init(status: 200, body: .object(["deleted"])),
        Route.deleteLog.name: .init(status: 200, body: .object(["deleted"])),
        Route.usage.name: .init(status: 200, body: .object([])),
        Route.monthlyReport.name: .init(status: 200, body: .any),
        Route.listPrices.name: .init(status: 200, body: .list("prices")),
        Route.addPrice.name: .init(status: 201, body: .object([])),
        Route.deletePrice.name: .init(status: 204, body: .none),
        Route.listAccountPrices.name: .init(status: 200, body: .list("prices")),
        Route.addAccountPrice.name: .init(status: 201, body: .object([])),
        Route.deleteAccountPrice.name: .init(status: 204, body: .none),
        Route.reprice.name: .init(status: 200, body: .object([])),
        Route.ingest.name: .init(
            status: 200, body: .object(["accepted", "dropped", "queued", "stored", "failed", "discarded", "state"])),
        Route.compact.name: .init(
            status: 200,
            body: .object([
                "expired", "segments_rewritten", "segments_dropped", "logs_purged", "bytes_before", "bytes_after",
                "segments_deferred",
            ])),
        Route.openAPI.name: .init(status: 200, body: .object(["openapi", "info", "paths", "components"])),
        Route.metrics.name: .init(status: 200, body: .text),
        Route.dashboard.name: .init(status: 200, body: .file("text/html")),
        Route.dashboardScript.name: .init(status: 200, body: .file("text/javascript")),
        Route.dashboardCharts.name: .init(status: 200, body: .file("text/javascript")),
        Route.dashboardStyle.name: .init(status: 200, body: .file("text/css")),
        Route.cfCreateGateway.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfListGateways.name: .init(status: 200, body: .object(cloudflare + ["result_info"])),
        Route.cfGetGateway.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfUpdateGateway.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfDeleteGateway.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfDeleteLogs.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfCreateCustomProvider.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfListCustomProviders.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfGetCustomProvider.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfDeleteCustomProvider.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfListLogs.name: .init(status: 200, body: .object(cloudflare + ["result_info"])),
        Route.cfGetLog.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfPatchLog.name: .init(status: 200, body: .object(cloudflare)),
        Route.cfGetLogRequest.name: .init(status: 200, body: .any),
        Route.cfGetLogResponse.name: .init(status: 200, body: .any),
    ]
}

extension Route {
    /// The route's path parameters, in order: `{account}` → `account`.
    var pathParameters: [String] {
        path.split(separator: "/").compactMap { part in
            part.hasPrefix("{") && part.hasSuffix("}") ? String(part.dropFirst().dropLast()) : nil
        }
    }

    /// `get /api/v1/accounts/{account}/logs` → `get_api_v1_accounts_account_logs`.
    var operationID: String {
        let words = path.split(separator: "/").map { $0.filter { $0.isLetter || $0.isNumber || $0 == "_" } }
        return ([method.rawValue.lowercased()] + words).joined(separator: "_")
    }

    fileprivate func writeOperation(_ doc: OpenAPIWriter) {
        let needsToken = audience != "no token"
        doc.object {
            doc.field("operationId", operationID)
            doc.field("summary", summary)
            let tag =
                path.hasPrefix("/dashboard") ? "dashboard" : path.split(separator: "/").dropFirst(2).first ?? "health"
            doc.strings("tags", [String(tag)])
            doc.key("security")
            doc.array {
                if needsToken {
                    doc.object { doc.strings("bearer", []) }
                } else {
                    doc.object {}
                }
            }
            if needsToken {
                doc.field("x-tollgate-access", audience)
            }
            let parameters = pathParameters
            if !parameters.isEmpty || query.contains(where: { !$0.prefix }) {
                doc.key("parameters")
                doc.array {
                    for name in parameters {
                        doc.object {
                            doc.field("name", name)
                            doc.field("in", "path")
                            doc.bool("required", true)
                            // Every gateway starts with the `default` account and its `default` gateway.
                            if name == "account" || name == "gateway" { doc.field("example", "default") }
                            doc.key("schema")
                            // Log ids are not account-style ids; every other path parameter is.
                            let kind: Kind = name == "id" ? .text : .identifier
                            kind.writeSchema(doc)
                        }
                    }
                    // A prefix family (`metadata.<key>`) has no fixed name; its summary in the description says so.
                    for field in query where !field.prefix {
                        doc.object {
                            doc.field("name", field.name)
                            doc.field("in", "query")
                            doc.bool("required", field.required)
                            doc.field("description", field.summary)
                            doc.key("schema")
                            field.kind.writeSchema(doc, inQuery: true)
                        }
                    }
                }
            }
            if let body {
                doc.key("requestBody")
                doc.object {
                    doc.bool("required", true)
                    doc.key("content")
                    doc.object {
                        doc.key("application/json")
                        doc.object {
                            doc.key("schema")
                            doc.object {
                                doc.field("type", "object")
                                doc.bool("additionalProperties", false)
                                let required = body.filter(\.required).map(\.name)
                                if !required.isEmpty { doc.strings("required", required) }
                                doc.key("properties")
                                doc.object {
                                    for field in body {
                                        doc.key(field.name)
                                        field.kind.writeSchema(
                                            doc, nullable: field.nullable, description: field.summary)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            doc.key("responses")
            doc.object {
                let success = OpenAPISuccess.byRoute[name] ?? OpenAPISuccess(status: 200, body: .any)
                doc.key(String(success.status))
                success.write(doc)
                if name == Route.readyz.name {
                    doc.key("503")
                    OpenAPISuccess(status: 503, body: .object(["status", "reason", "since"])).write(doc)
                }
                let errors: [(String, String)] =
                    needsToken
                    ? [("400", "BadRequest"), ("401", "Unauthorized"), ("403", "Forbidden"), ("404", "NotFound")]
                    : [("400", "BadRequest")]
                // The Cloudflare-compatible routes answer errors in Cloudflare's envelope.
                let shape = path.hasPrefix(Route.cloudflarePrefix + "/") ? "Cloudflare" : ""
                for (status, name) in errors {
                    doc.key(status)
                    doc.object { doc.field("$ref", "#/components/responses/\(shape)\(name)") }
                }
                if method == .post && success.status == 201 {
                    doc.key("409")
                    doc.object { doc.field("$ref", "#/components/responses/Conflict") }
                }
                doc.key("default")
                doc.object { doc.field("$ref", "#/components/responses/\(shape)Error") }
            }
        }
    }
}

extension OpenAPISuccess {
    fileprivate func write(_ doc: OpenAPIWriter) {
        doc.object {
            doc.field("description", status == 204 ? "Done; no body." : "Success.")
            switch body {
            case .none:
                break
            case .text:
                doc.key("content")
                doc.object {
                    doc.key("text/plain")
                    doc.object {
                        doc.key("schema"); doc.object { doc.field("type", "string") }
                    }
                }
            case .file(let mediaType):
                doc.key("content")
                doc.object {
                    doc.key(mediaType)
                    doc.object {
                        doc.key("schema"); doc.object { doc.field("type", "string") }
                    }
                }
            case .any:
                doc.key("content")
                doc.object {
                    doc.key("*/*")
                    doc.object {
                        doc.key("schema"); doc.object {}
                    }
                }
            case .object(let members):
                doc.key("content")
                doc.object {
                    doc.key("application/json")
                    doc.object {
                        doc.key("schema")
                        doc.object {
                            doc.field("type", "object")
                            if !members.isEmpty {
                                doc.key("properties")
                                doc.object { for member in members { doc.key(member); doc.object {} } }
                            }
                        }
                    }
                }
            case .list(let key):
                doc.key("content")
                doc.object {
                    doc.key("application/json")
                    doc.object {
                        doc.key("schema")
                        doc.object {
                            doc.field("type", "object")
                            doc.strings("required", [key])
                            doc.key("properties")
                            doc.object {
                                doc.key(key)
                                doc.object {
                                    doc.field("type", "array")
                                    doc.key("items")
                                    doc.object { doc.field("type", "object") }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Route.Kind {
    /// The JSON Schema of a value of this kind: as text in a query string (`inQuery`), else as a JSON body member.
    fileprivate func writeSchema(
        _ doc: OpenAPIWriter, inQuery: Bool = false, nullable: Bool = false, description: String? = nil
    ) {
        doc.object {
            func type(_ name: String) {
                if nullable { doc.strings("type", [name, "null"]) } else { doc.field("type", name) }
                // An empty value is refused: in a query string for every kind, in a body for text.
                if name == "string", inQuery || isText { doc.int("minLength", 1) }
            }
            switch self {
            case .text:
                type("string")
            case .identifier:
                type("string"); doc.field("pattern", "^[a-z0-9][a-z0-9-]{0,63}$")
            case .integer(let range):
                type("integer"); doc.int("minimum", range.lowerBound); doc.int("maximum", range.upperBound)
            case .boolean:
                type("boolean")
            case .timestamp:
                type("string"); doc.field("format", "date-time")
            case .date:
                type("string"); doc.field("description", "YYYY-MM-DD (midnight UTC) or an RFC 3339 timestamp")
            case .month:
                type("string"); doc.field("pattern", "^[0-9]{4}-(0[1-9]|1[0-2])$")
            case .choice(let names):
                type("string")
                doc.key("enum")
                doc.array {
                    for name in names { doc.value(JSONText.quoted(name)) }
                    if nullable { doc.value("null") }
                }
            case .subset(let names):
                if inQuery {
                    type("string")
                    doc.field("description", "a comma-separated subset of " + names.joined(separator: ", "))
                } else {
                    type("array")
                    doc.bool("uniqueItems", true)
                    doc.key("items")
                    doc.object {
                        doc.field("type", "string"); doc.strings("enum", names)
                    }
                }
            case .timeZone:
                type("string"); doc.field("description", "an IANA time zone name such as Europe/Paris")
            case .price, .requestFee:
                if inQuery {
                    type("string")
                } else if nullable {
                    doc.strings("type", ["number", "string", "null"])
                } else {
                    doc.strings("type", ["number", "string"])
                }
                doc.field("description", markdownName + ", a non-negative decimal")
            case .object:
                type("object")
            case .filterParts:
                type("string")
            }
            if let description, !description.isEmpty, !isDescribedAbove { doc.field("description", description) }
        }
    }

    private var isText: Bool {
        if case .text = self { true } else { false }
    }

    /// Kinds whose schema already carries a description of the format.
    private var isDescribedAbove: Bool {
        switch self {
        case .date, .timeZone, .price, .requestFee, .subset: true
        default: false
        }
    }
}

/// Pretty-printed JSON, two-space indents, for a document a person reads in a diff.
final class OpenAPIWriter {
    private(set) var text = ""
    private var depth = 0
    private var first = true
    private var afterKey = false

    private func begin() {
        if afterKey {
            afterKey = false
            return
        }
        if depth > 0 {
            text += first ? "\n" : ",\n"
            text += String(repeating: "  ", count: depth)
        }
        first = false
    }

    func object(_ body: () -> Void) { container("{", "}", body) }
    func array(_ body: () -> Void) { container("[", "]", body) }

    private func container(_ open: String, _ close: String, _ body: () -> Void) {
        begin()
        text += open
        depth += 1
        first = true
        body()
        depth -= 1
        if !first { text += "\n" + String(repeating: "  ", count: depth) }
        text += close
        first = false
    }

    func key(_ name: String) {
        begin()
        text += JSONText.quoted(name) + ": "
        afterKey = true
    }

    func value(_ raw: String) {
        begin()
        text += raw
    }

    func field(_ name: String, _ value: String) { key(name); self.value(JSONText.quoted(value)) }
    func bool(_ name: String, _ value: Bool) { key(name); self.value(value ? "true" : "false") }
    func int(_ name: String, _ value: Int64) { key(name); self.value(String(value)) }
    func strings(_ name: String, _ values: [String]) {
        key(name)
        array { for item in values { value(JSONText.quoted(item)) } }
    }
}
