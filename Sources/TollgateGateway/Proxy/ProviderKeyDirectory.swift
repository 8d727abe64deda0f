import Crypto
import Foundation
import Synchronization
import TollgateModel
import TollgateStorage

/// The provider keys the accounts keep in the gateway, decrypted once — at start-up, or when one is added — and
/// held in memory, so the proxy never decrypts on the event loop. On disk they are sealed with AES-GCM under the
/// master key (`MasterKey`).
public final class ProviderKeyDirectory: Sendable {
    private struct Key: Hashable {
        var account: String
        var provider: String
        var alias: String
    }

    /// What a stored key is: a secret the provider reads from a header, or an AWS access key the gateway signs
    /// Bedrock requests with.
    public enum Secret: Sendable, Equatable {
        case key(String)
        /// `region`: the region signed for when the request's path names none.
        case aws(SigV4.Credentials, region: String)

        /// The sealed form: the key itself, or for AWS a JSON object `{"access_key_id", "secret_access_key",
        /// "region"}`.
        var plaintext: [UInt8] {
            switch self {
            case .key(let secret):
                return Array(secret.utf8)
            case .aws(let credentials, let region):
                let object = [
                    "access_key_id": credentials.accessKeyID, "secret_access_key": credentials.secretAccessKey,
                    "region": region,
                ]
                return Array(try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]))
            }
        }

        /// The secret a provider's sealed plaintext holds; nil when it does not read as one.
        static func opening(_ plain: Data, provider: String) -> Secret? {
            if provider == ProviderTemplate.awsBedrock.rawValue {
                guard let object = try? JSONSerialization.jsonObject(with: plain) as? [String: String],
                    let id = object["access_key_id"], let secret = object["secret_access_key"],
                    let region = object["region"]
                else { return nil }
                return .aws(SigV4.Credentials(accessKeyID: id, secretAccessKey: secret), region: region)
            }
            return String(bytes: plain, encoding: .utf8).map(Secret.key)
        }
    }

    private let entries: Mutex<[Key: Secret]>
    /// The master key's bytes (`SymmetricKey` is not `Sendable`).
    private let masterKey: [UInt8]

    /// The alias a request that names none uses.
    public static let defaultAlias = "default"

    /// An empty directory under a fresh random master key (for tools and tests that store no keys).
    public convenience init() {
        try! self.init(masterKey: SymmetricKey(size: .bits256), stored: [])
    }

    /// Opens every stored key with the master key. Throws `MasterKey.Failure` when one does not open: the master
    /// key is not the one the keys were sealed with.
    public init(masterKey: SymmetricKey, stored: [ProviderKeyRecord]) throws {
        self.masterKey = masterKey.withUnsafeBytes { Array($0) }
        var entries: [Key: Secret] = [:]
        for record in stored {
            guard let box = try? AES.GCM.SealedBox(combined: record.sealed),
                let plain = try? AES.GCM.open(box, using: masterKey, authenticating: Data(record.id.utf8)),
                let secret = Secret.opening(plain, provider: record.provider)
            else {
                throw MasterKey.Failure(
                    "the master key does not open the stored provider keys (key \(record.id) of account "
                        + "\(record.account)): set TOLLGATE_MASTER_KEY to the key they were stored with, or restore "
                        + "the data folder's \(MasterKey.fileName)")
            }
            entries[Key(account: record.account, provider: record.provider, alias: record.alias)] = secret
        }
        self.entries = Mutex(entries)
    }

    /// The secret sealed for storage (nonce, ciphertext and tag), bound to the key's id.
    func seal(_ secret: Secret, id: String) throws -> [UInt8] {
        let box = try AES.GCM.seal(
            Data(secret.plaintext), using: SymmetricKey(data: masterKey), authenticating: Data(id.utf8))
        return [UInt8](box.combined!)
    }

    /// The stored key for a provider and alias of an account, or nil.
    func lookup(account: String, provider: some StringProtocol, alias: some StringProtocol) -> Secret? {
        let key = Key(account: account, provider: String(provider), alias: String(alias))
        return entries.withLock { $0[key] }
    }

    /// Adds a key, in use from the next request.
    func insert(account: String, provider: String, alias: String, secret: Secret) {
        entries.withLock { $0[Key(account: account, provider: provider, alias: alias)] = secret }
    }

    /// Forgets a key: the next request is forwarded without it.
    func remove(account: String, provider: String, alias: String) {
        _ = entries.withLock { $0.removeValue(forKey: Key(account: account, provider: provider, alias: alias)) }
    }
}

/// The key provider keys are sealed under: `TOLLGATE_MASTER_KEY` (base64 of 32 bytes) when set, otherwise the
/// data folder's `master.key`, generated with mode 0600 on first start.
public enum MasterKey {
    public static let fileName = "master.key"
    public static let environmentVariable = "TOLLGATE_MASTER_KEY"

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// `configured`: the value of `TOLLGATE_MASTER_KEY`, or nil to use (or create) the data folder's file.
    public static func load(configured: String?, dataDirectory: String) throws -> SymmetricKey {
        if let configured {
            return try decode(configured, from: environmentVariable)
        }
        let path = dataDirectory + "/" + fileName
        if FileManager.default.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            return try decode(text, from: path)
        }
        let key = SymmetricKey(size: .bits256)
        let text = key.withUnsafeBytes { Data($0).base64EncodedString() } + "\n"
        try writeOwnerOnly(Array(text.utf8), to: path)
        return key
    }

    static func decode(_ text: String, from origin: String) throws -> SymmetricKey {
        guard let bytes = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
            bytes.count == 32
        else {
            throw Failure("\(origin): expected a master key of 32 bytes in base64 (e.g. `openssl rand -base64 32`)")
        }
        return SymmetricKey(data: bytes)
    }
}
