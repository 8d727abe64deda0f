import Hummingbird
import TollgateModel
import TollgateStorage

/// `/client/v4/accounts/{account}/ai-gateway/custom-providers`: Cloudflare's custom provider calls ("Create a new
/// Account Provider", list, get, delete; its API reference and the Python SDK's `ai_gateway.custom_providers`
/// types) on Tollgate's custom providers, with the same rules and tokens as `/api/v1/…/custom-providers`.
///
/// A provider's Cloudflare `id` is its slug (Tollgate keys providers by slug). Cloudflare's `base_url`, `name` and
/// `slug` are taken; `api` (Tollgate's, default `none`: logged and counted, unpriced) says whose usage to read.
/// Cloudflare's fields Tollgate does not apply (`headers`, `description`, `beta`, `position`, examples, …) are
/// refused by name, never stored and ignored.
struct CloudflareCustomProviderRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.cfCreateCustomProvider, prefix: Route.cloudflarePrefix) { _, context, input in
            let account = try await api.requireAccount(context)
            let body = input.body
            let kind = body.text("api").flatMap(CustomProviderRecord.API.init(rawValue:)) ?? .none
            let created = try await CustomProviderRoutes<Context>.create(
                api, account: account.id, slug: body.text("slug")!,
                baseURL: try CustomProviderURL.check(body.text("base_url")!), kind: kind, name: body.text("name")!)
            return cloudflare { $0.cloudflareCustomProvider(created) }
        }
        group.on(.cfListCustomProviders, prefix: Route.cloudflarePrefix) { _, context, input in
            let account = try await api.requireAccount(context)
            let q = input.query
            var providers = try await api.blocking { try api.catalog.customProviders(account: account.id) }
            if let search = q.text("search")?.lowercased() {
                providers = providers.filter {
                    $0.slug.contains(search) || ($0.name ?? "").lowercased().contains(search)
                }
            }
            // Every Tollgate provider is enabled and none is a beta.
            if q.bool("enable") == false || q.bool("beta") == true { providers = [] }
            return cloudflarePage(providers, q) { $0.cloudflareCustomProvider($1) }
        }
        group.on(.cfGetCustomProvider, prefix: Route.cloudflarePrefix) { _, context, _ in
            let provider = try await named(context)
            return cloudflare { $0.cloudflareCustomProvider(provider) }
        }
        group.on(.cfDeleteCustomProvider, prefix: Route.cloudflarePrefix) { _, context, _ in
            let provider = try await named(context)
            try await CustomProviderRoutes<Context>.delete(api, account: provider.account, slug: provider.slug)
            return cloudflare { $0.cloudflareCustomProvider(provider) }
        }
    }

    /// The provider the path names; 404 when the account has none with that slug.
    private func named(_ context: Context) async throws -> CustomProviderRecord {
        let account = try await api.requireAccount(context)
        let slug = try context.parameters.require("slug")
        guard let provider = try await api.blocking({ try api.catalog.customProvider(account: account.id, slug: slug) })
        else { throw APIError.notFound("custom provider \(slug)") }
        return provider
    }
}

extension Route {
    static let cfCreateCustomProvider = Route(
        .post, "/client/v4/accounts/{account}/ai-gateway/custom-providers",
        "Cloudflare's \"Create a new Account Provider\": a custom provider as `POST /api/v1/…/custom-providers` "
            + "makes one, proxied at `custom-{slug}`; answers it as `result` (`id` is the slug).",
        body: [
            Field("slug", .identifier, "the provider's name; its path segment is `custom-{slug}`", required: true),
            Field("name", .text, "a display name", required: true),
            Field(
                "base_url", .text, "what the forwarded path is appended to: `https://…` (`http://` only to loopback)",
                required: true),
            Field(
                "api", .choice(customProviderAPIs),
                "Tollgate's: whose usage is read (`openai`, `anthropic`, `gemini`; default `none`: logged, unpriced)"),
        ])
    static let cfListCustomProviders = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/custom-providers",
        "Cloudflare's \"List Account Providers\": by slug, a page at a time with `result_info`.",
        query: [
            Field("page", .integer(1...1_000_000), "page number, from 1 (default 1)"),
            Field("per_page", .integer(1...1000), "providers per page (default 20)"),
            Field("search", .text, "only providers whose slug or name contains this"),
            Field("enable", .boolean, "enabled ones (every Tollgate provider is)"),
            Field("beta", .boolean, "beta ones (no Tollgate provider is)"),
        ])
    static let cfGetCustomProvider = Route(
        .get, "/client/v4/accounts/{account}/ai-gateway/custom-providers/{slug}",
        "Cloudflare's \"Fetch an Account Provider\": by id (the slug).")
    static let cfDeleteCustomProvider = Route(
        .delete, "/client/v4/accounts/{account}/ai-gateway/custom-providers/{slug}",
        "Cloudflare's \"Delete an Account Provider\": as `DELETE /api/v1/…/custom-providers/{slug}`; answers it as "
            + "it was.")
}

extension JSONWriter {
    /// A custom provider with the fields of Cloudflare's (`CustomProviderGetResponse` of its Python SDK); then
    /// Tollgate's `api` and `provider` (the proxy path segment).
    mutating func cloudflareCustomProvider(_ provider: CustomProviderRecord) {
        beginObject()
        key("id"); string(provider.slug)
        key("slug"); string(provider.slug)
        key("name"); string(provider.name ?? provider.slug)
        key("base_url"); string(provider.baseURL)
        key("created_at"); string(RFC3339.format(milliseconds: provider.createdAt))
        key("modified_at"); string(RFC3339.format(milliseconds: provider.updatedAt))
        key("enable"); bool(true)
        key("beta"); bool(false)
        key("api"); string(provider.api.rawValue)
        key("provider"); string(provider.providerName)
        endObject()
    }
}
