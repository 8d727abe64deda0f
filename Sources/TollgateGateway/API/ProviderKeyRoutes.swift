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
        // A misspelt provider would store a key no request ever uses.
        guard provider.hasPrefix(CustomProviderDirectory.prefix) || ProviderTable.builtIn.provider(provider) != nil
        else {
            throw APIError.badParameter(
                "provider", "expected one of \(ProviderTable.builtIn.slugs.joined(separator: ", ")) or custom-{slug}")
        }
        let secret: ProviderKeyDirectory.Secret
        let preview: String
        if ProviderTable.builtIn.provider(provider)?.api == .bedrock {
            // Bedrock is signed with SigV4: the gateway keeps the access key and signs each request itself.
            guard input.body.text("secret") == nil else {
                throw APIError.badParameter(
                    "secret", "aws-bedrock takes access_key_id, secret_access_key and region instead of secret")
            }
            let id = try Self.awsField(input, "access_key_id", minimum: 16)
            let key = try Self.awsField(input, "secret_access_key", minimum: 16)
            guard let region = input.body.text("region") else {
                throw APIError.badParameter("region", "required for aws-bedrock, e.g. us-east-1")
            }
            guard ProviderTemplate.isHostLabel(Substring(region)) else {
                throw APIError.badParameter("region", "expected an AWS region such as us-east-1")
            }
            secret = .aws(SigV4.Credentials(accessKeyID: id, secretAccessKey: key), region: region)
            preview = String(id.suffix(4))
        } else {
            for name in ["access_key_id", "secret_access_key", "region"] where input.body.text(name) != nil {
                throw APIError.badParameter(name, "only aws-bedrock keys take \(name)")
            }
            guard let key = input.body.text("secret") else {
                throw APIError.badParameter("secret", "required")
            }
            // The key goes into a header: visible ASCII only, and long enough that its preview does not give it
            // away.
            guard key.count >= 8, key.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw APIError.badParameter("secret", "expected at least 8 visible ASCII characters")
            }
            secret = .key(key)
            preview = String(key.suffix(4))
        }
        let id = "pk_" + AccountTokenSecret.hex(AccountTokenSecret.randomBytes(count: 8))
        let keys = api.directory.providerKeys
        let created = try await api.blocking {
            try api.catalog.createProviderKey(
                account: account.id, id: id, provider: provider, alias: alias, sealed: keys.seal(secret, id: id),
                preview: preview)
        }
        keys.insert(account: account.id, provider: provider, alias: alias, secret: secret)
        return json(status: .created) { $0.providerKey(created) }
    }

    /// An AWS credential part: visible ASCII (it is signed with, and the id travels in a header).
    private static func awsField(_ input: RouteInput, _ name: String, minimum: Int) throws -> String {
        guard let value = input.body.text(name) else {
            throw APIError.badParameter(name, "required for aws-bedrock")
        }
        guard value.utf8.count >= minimum, value.utf8.count <= 256, value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else {
            throw APIError.badParameter(name, "expected \(minimum) to 256 visible ASCII characters")
        }
        return value
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
            + "it; an aws-bedrock key (an AWS access key) signs the forwarded request with SigV4 instead, replacing the "
            + "client's own `AWS4-HMAC-SHA256` signature. 409 when the account has a key for this provider and alias.",
        body: [
            Field(
                "provider", .identifier, "the provider slug (`openai`, `anthropic`, `custom-{slug}`, …)",
                required: true),
            Field("alias", .identifier, "picked by a request's `cf-aig-byok-alias`; `default` when omitted"),
            Field(
                "secret", .text,
                "the provider key (at least 8 visible ASCII characters); required for every provider but aws-bedrock"),
            Field(
                "access_key_id", .text,
                "aws-bedrock only, required there: the AWS access key id the gateway signs requests with (SigV4); "
                    + "its last 4 characters are the preview"),
            Field("secret_access_key", .text, "aws-bedrock only, required there: the AWS secret access key"),
            Field(
                "region", .identifier,
                "aws-bedrock only, required there: the region signed for when a request's path names none "
                    + "(the path's region, which picks the host, is signed for otherwise)"),
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
