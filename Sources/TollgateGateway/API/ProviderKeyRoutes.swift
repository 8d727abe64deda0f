import Hummingbird
import TollgateModel
import TollgateStorage

/// `/api/v1/accounts/{account}/provider-keys`: store, list and delete the provider keys an account keeps in the
/// gateway. A stored key is never answered: listings show its last 4 characters.
struct ProviderKeyRoutes<Context: RequestContext> {
    let api: APIServices

    func register(on group: RouterGroup<Context>) {
        group.on(.createProviderKey, prefix: Route.apiPrefix) { _, context, input in try await create(input, context) }
        group.on(.listProviderKeys, prefix: Route.apiPrefix) { _, context, _ in try await list(context) }
        group.on(.deleteProviderKey, prefix: Route.apiPrefix) { _, context, _ in try await delete(context) }
    }

    private func create(_ input: RouteInput, _ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let provider = input.body.text("provider")!
        let alias = input.body.text("alias") ?? ProviderKeyDirectory.defaultAlias
        let secret = input.body.text("secret")!
        // A misspelt provider would store a key no request ever uses.
        guard provider.hasPrefix(CustomProviderDirectory.prefix) || ProviderTable.builtIn.provider(provider) != nil
        else {
            throw APIError.badParameter(
                "provider", "expected one of \(ProviderTable.builtIn.slugs.joined(separator: ", ")) or custom-{slug}")
        }
        guard ProviderTable.builtIn.provider(provider)?.api != .bedrock else {
            throw APIError.badParameter("provider", "stored keys for aws-bedrock (SigV4 signing) are not supported")
        }
        // The key goes into a header: visible ASCII only, and long enough that its preview does not give it away.
        guard secret.count >= 8, secret.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
            throw APIError.badParameter("secret", "expected at least 8 visible ASCII characters")
        }
        let id = "pk_" + AccountTokenSecret.hex(AccountTokenSecret.randomBytes(count: 8))
        let keys = api.directory.providerKeys
        let created = try await api.blocking {
            try api.catalog.createProviderKey(
                account: account.id, id: id, provider: provider, alias: alias, sealed: keys.seal(secret, id: id),
                preview: String(secret.suffix(4)))
        }
        keys.insert(account: account.id, provider: provider, alias: alias, secret: secret)
        return json(status: .created) { $0.providerKey(created) }
    }

    private func list(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let keys = try await api.blocking { try api.catalog.providerKeys(account: account.id) }
        return jsonList("provider_keys", keys) { $0.providerKey($1) }
    }

    /// `DELETE …/provider-keys/{id}`: 204; requests are forwarded without the key from then on.
    private func delete(_ context: Context) async throws -> Response {
        let account = try await api.requireAccount(context)
        let id = try context.parameters.require("id")
        guard let deleted = try await api.blocking({ try api.catalog.deleteProviderKey(account: account.id, id: id) })
        else {
            throw APIError.notFound("provider key \(id)")
        }
        api.directory.providerKeys.remove(account: account.id, provider: deleted.provider, alias: deleted.alias)
        return Response(status: .noContent)
    }
}

extension Route {
    static let createProviderKey = Route(
        .post, "/api/v1/accounts/{account}/provider-keys",
        "Stores a provider key, sealed with AES-GCM under the gateway's master key: 201 with its id and preview "
            + "(never the key). On gateways with `authentication` on, a request that carries no key of its own gets "
            + "it. 409 when the account has a key for this provider and alias.",
        body: [
            Field(
                "provider", .identifier, "the provider slug (`openai`, `anthropic`, `custom-{slug}`, …)",
                required: true),
            Field("alias", .identifier, "picked by a request's `cf-aig-byok-alias`; `default` when omitted"),
            Field("secret", .text, "the provider key (at least 8 visible ASCII characters)", required: true),
        ])
    static let listProviderKeys = Route(
        .get, "/api/v1/accounts/{account}/provider-keys",
        "The account's provider keys by provider then alias, each with its last 4 characters, never the key.")
    static let deleteProviderKey = Route(
        .delete, "/api/v1/accounts/{account}/provider-keys/{id}",
        "Deletes a provider key: 204; requests are forwarded without it from then on.")
}

extension JSONWriter {
    mutating func providerKey(_ record: ProviderKeyRecord) {
        beginObject()
        key("id"); string(record.id)
        key("account"); string(record.account)
        key("provider"); string(record.provider)
        key("alias"); string(record.alias)
        key("preview"); string(record.preview)
        key("created_at"); string(RFC3339.format(milliseconds: record.createdAt))
        endObject()
    }
}
