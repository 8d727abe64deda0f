/// An error of the catalog's own rules (conflicts, unknown or invalid names, bad queries). Failures of SQLite itself
/// surface as `SQLiteError`.
///
/// Messages name the offending parameter and value where it is an id or a setting; they never contain log content.
public struct CatalogError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for matching: `catch let error as CatalogError where error.code == .accountExists`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Wrapped: Hashable, Sendable {
            case invalidIdentifier
            case invalidTier
            case accountExists
            case accountNotFound
            case gatewayExists
            case customProviderExists
            case providerKeyExists
            case segmentNotFound
            case invalidLimit
            case invalidCursor
            case invalidValue
            case dataFolderInUse
        }
        private let wrapped: Wrapped
        private init(_ wrapped: Wrapped) { self.wrapped = wrapped }

        /// An account or gateway id that does not match `[a-z0-9][a-z0-9-]{0,63}`.
        public static var invalidIdentifier: Code { Code(.invalidIdentifier) }
        /// A tier other than `free` or `paid`.
        public static var invalidTier: Code { Code(.invalidTier) }
        /// `createAccount` with an id that is taken.
        public static var accountExists: Code { Code(.accountExists) }
        /// The account named does not exist.
        public static var accountNotFound: Code { Code(.accountNotFound) }
        /// `createGateway` with an id the account already has.
        public static var gatewayExists: Code { Code(.gatewayExists) }
        /// `createCustomProvider` with a slug the account already has.
        public static var customProviderExists: Code { Code(.customProviderExists) }
        /// `createProviderKey` for a provider and alias the account already has a key for.
        public static var providerKeyExists: Code { Code(.providerKeyExists) }
        /// `markSealed` for a segment the catalog does not have.
        public static var segmentNotFound: Code { Code(.segmentNotFound) }
        /// A page size outside 1…1000.
        public static var invalidLimit: Code { Code(.invalidLimit) }
        /// A cursor that this catalog did not make, or one made for the other order.
        public static var invalidCursor: Code { Code(.invalidCursor) }
        /// A stored value this version cannot read (e.g. an unknown tier).
        public static var invalidValue: Code { Code(.invalidValue) }
        /// Another process holds the data folder's lock (a running gateway, or a writing command).
        public static var dataFolderInUse: Code { Code(.dataFolderInUse) }

        public var description: String {
            switch wrapped {
            case .invalidIdentifier: "invalidIdentifier"
            case .invalidTier: "invalidTier"
            case .accountExists: "accountExists"
            case .accountNotFound: "accountNotFound"
            case .gatewayExists: "gatewayExists"
            case .customProviderExists: "customProviderExists"
            case .providerKeyExists: "providerKeyExists"
            case .segmentNotFound: "segmentNotFound"
            case .invalidLimit: "invalidLimit"
            case .invalidCursor: "invalidCursor"
            case .invalidValue: "invalidValue"
            case .dataFolderInUse: "dataFolderInUse"
            }
        }
    }

    public var code: Code
    /// The parameter at fault (`id`, `account`, `gateway`, `limit`, `cursor`, …), for error responses.
    public var parameter: String?
    public var message: String

    public init(code: Code, parameter: String? = nil, message: String) {
        self.code = code
        self.parameter = parameter
        self.message = message
    }

    public var description: String { "CatalogError.\(code): \(message)" }

    /// `.accountNotFound` for a row that belongs to account `account`.
    static func accountNotFound(_ account: String) -> CatalogError {
        CatalogError(code: .accountNotFound, parameter: "account", message: "account \(account) does not exist")
    }
}
