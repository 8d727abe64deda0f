import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts/{account}/custom-providers`: create, list, get, change and delete the providers an account adds
/// at run time, proxied at `/v1/{account}/{gateway}/custom-{slug}/…` on that account's gateways only.
struct CustomProviderRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.createCustomProvider, prefix: Route.apiPrefix) { _, context, input in try await create(input, context)
        }
        group.on(.listCustomProviders, prefix: Route.apiPrefix) { _, context, _ in try await list(context) }
        group.on(.getCustomProvider, prefix: Route.apiPrefix) { _, context, _ in try await get(context) }
        group.on(.updateCustomProvider, prefix: Route.apiPrefix) { _, context, input in
            try await update(input, context)
        }
        group.on(.deleteCustomProvider, prefix: Route.apiPrefix) { _, context, _ in try await delete(context) }
    }

    private func create(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let created = try await Self.create(api, account: account.id, input.body)
        return json(status: .created) { $0.customProvider(created) }
    }

    /// Adds the provider `body` declares and makes it known to the proxy.
    static func create(_ api: APIServices, account: String, _ body: RouteInput.Values) async throws
        -> CustomProviderRecord
    {
        try await create(
            api, account: account, slug: body.text("slug")!,
            baseURL: try CustomProviderURL.check(body.text("base_url")!),
            kind: CustomProviderRecord.API(rawValue: body.text("api")!)!, name: body.text("name"))
    }

    /// Stores a provider and puts it in the proxy's directory: forwarded from the next request.
    static func create(
        _ api: APIServices, account: String, slug: String, baseURL: String, kind: CustomProviderRecord.API,
        name: String?
    ) async throws -> CustomProviderRecord {
        let created = try await api.blocking {
            try api.catalog.createCustomProvider(account: account, slug: slug, baseURL: baseURL, api: kind, name: name)
        }
        api.directory.customProviders.upsert(created)
        return created
    }

    /// Deletes a provider and takes it out of the proxy's directory; 404 when the account has none with this slug.
    static func delete(_ api: APIServices, account: String, slug: String) async throws {
        guard try await api.blocking({ try api.catalog.deleteCustomProvider(account: account, slug: slug) }) else {
            throw APIError.notFound("custom provider \(slug)")
        }
        api.directory.customProviders.remove(account: account, slug: slug)
    }

    /// Changes `base_url`, `api` and `name` as `body` names them, in force for the next request; nil when the
    /// account has no provider with this slug.
    static func update(_ api: APIServices, account: String, slug: String, _ body: RouteInput.Values) async throws
        -> CustomProviderRecord?
    {
        let baseURL = try body.text("base_url").map(CustomProviderURL.check)
        let kind = body.text("api").map { CustomProviderRecord.API(rawValue: $0)! }
        let name = body.text("name")
        let updated = try await api.blocking {
            try api.catalog.updateCustomProvider(account: account, slug: slug, baseURL: baseURL, api: kind, name: name)
        }
        if let updated { api.directory.customProviders.upsert(updated) }
        return updated
    }

    /// `PATCH …/custom-providers/{slug}`: changes `base_url` and `api` as the body names them, in force for the next
    /// request; answers the provider.
    private func update(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let slug = try context.parameters.require("slug")
        guard let provider = try await Self.update(api, account: account.id, slug: slug, input.body) else {
            throw APIError.notFound("custom provider \(slug)")
        }
        return json { $0.customProvider(provider) }
    }

    private func list(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let providers = try await api.blocking { try api.catalog.customProviders(account: account.id) }
        return jsonList("custom_providers", providers) { $0.customProvider($1) }
    }

    private func get(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let slug = try context.parameters.require("slug")
        guard
            let provider = try await api.blocking({ try api.catalog.customProvider(account: account.id, slug: slug) })
        else {
            throw APIError.notFound("custom provider \(slug)")
        }
        return json { $0.customProvider(provider) }
    }

    /// `DELETE …/custom-providers/{slug}`: 204; the next request naming it is refused as an unknown provider.
    private func delete(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        try await Self.delete(api, account: account.id, slug: try context.parameters.require("slug"))
        return Response(status: .noContent)
    }
}

/// The check of a custom provider's `base_url`.
enum CustomProviderURL {
    /// The hosts a custom provider may reach over plain HTTP: this machine only.
    static let loopbackHosts: Set<String> = ["127.0.0.1", "::1", "localhost"]

    /// A usable base URL without its trailing slashes: `https://host[:port][/path]`, or `http://` to a loopback
    /// host; no credentials, query or fragment.
    static func check(_ text: String) throws -> String {
        let why = "expected https://host[:port][/path] (http only to 127.0.0.1, [::1] or localhost)"
        guard !text.contains(where: { $0 == "?" || $0 == "#" || $0.isWhitespace }),
            let target = UpstreamTarget(baseURL: text)
        else {
            throw APIError.badParameter("base_url", why)
        }
        guard target.endpoint.tls || loopbackHosts.contains(target.endpoint.host.lowercased()) else {
            throw APIError.badParameter("base_url", why)
        }
        var url = Substring(text)
        while url.hasSuffix("/") { url = url.dropLast() }
        return String(url)
    }
}

extension Route {
    static let customProviderAPIs = CustomProviderRecord.API.allCases.map(\.rawValue)
    static let createCustomProvider = Route(
        .post, "/api/v1/accounts/{account}/custom-providers",
        "Adds a provider to the account, proxied at `/v1/{account}/{gateway}/custom-{slug}/…` on its gateways: 201.",
        body: [
            Field("slug", .identifier, "the provider's name; its path segment is `custom-{slug}`", required: true),
            Field(
                "base_url", .text,
                "what the forwarded path is appended to: `https://…` (`http://` only to a loopback host)",
                required: true),
            Field(
                "api", .choice(customProviderAPIs),
                "the wire format whose usage is read: `openai`, `anthropic`, `gemini`, or `none` (logged, unpriced)",
                required: true),
            Field("name", .text, "a display name (default: the slug)"),
        ])
    static let listCustomProviders = Route(
        .get, "/api/v1/accounts/{account}/custom-providers", "The account's custom providers, by slug.")
    static let getCustomProvider = Route(
        .get, "/api/v1/accounts/{account}/custom-providers/{slug}", "One custom provider.")
    static let updateCustomProvider = Route(
        .patch, "/api/v1/accounts/{account}/custom-providers/{slug}",
        "Changes `base_url`, `api` and `name` as the body names them, in force for the next request; answers the "
            + "provider.",
        body: [
            Field("base_url", .text, "as on creation"),
            Field("api", .choice(customProviderAPIs), "as on creation"),
            Field("name", .text, "as on creation"),
        ])
    static let deleteCustomProvider = Route(
        .delete, "/api/v1/accounts/{account}/custom-providers/{slug}",
        "Deletes a custom provider: 204; requests naming it are then refused as an unknown provider.")
}

extension JSONWriter {
    mutating func customProvider(_ provider: CustomProviderRecord) {
        beginObject()
        key("slug"); string(provider.slug)
        key("name"); string(provider.name ?? provider.slug)
        key("provider"); string(provider.providerName)
        key("account"); string(provider.account)
        key("base_url"); string(provider.baseURL)
        key("api"); string(provider.api.rawValue)
        key("created_at"); string(RFC3339.format(milliseconds: provider.createdAt))
        key("updated_at"); string(RFC3339.format(milliseconds: provider.updatedAt))
        endObject()
    }
}
