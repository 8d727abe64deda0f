/// Values by key, in the order their keys first came, where the key looked up last is compared before any hashing:
/// the store's thread sees records in bursts of one account, gateway and provider, and the rollups' fold in bursts of
/// one hour and one series in one minute, and a hash of the key is most of what a dictionary lookup costs.
///
/// Inlinable, so that each module that uses it gets it specialized for its keys and values.
public struct LastHitList<Key: Hashable, Value> {
    @usableFromInline var storedKeys: [Key] = []
    @usableFromInline var storedValues: [Value] = []
    @usableFromInline var positions: [Key: Int] = [:]
    /// The position of the key looked up last; -1 before any.
    @usableFromInline var last = -1

    @inlinable public init() {}

    @inlinable public var keys: [Key] { storedKeys }
    @inlinable public var values: [Value] { storedValues }
    @inlinable public var isEmpty: Bool { storedKeys.isEmpty }

    /// Calls `body` with the value of `key`, in place; `empty` is its value the first time.
    @inlinable
    public mutating func withValue<T>(
        _ key: Key, empty: @autoclosure () -> Value, _ body: (inout Value) throws -> T
    ) rethrows -> T {
        if last < 0 || storedKeys[last] != key {
            if let position = positions[key] {
                last = position
            } else {
                last = storedKeys.count
                positions[key] = last
                storedKeys.append(key)
                storedValues.append(empty())
            }
        }
        return try body(&storedValues[last])
    }

    /// Changes every value with `body`, keeping the keys whose value it returns true for (in their order).
    @inlinable
    public mutating func updateAll(keepingWhere body: (inout Value) -> Bool) {
        var keys: [Key] = []
        var values: [Value] = []
        for index in storedKeys.indices {
            var value = storedValues[index]
            if body(&value) {
                keys.append(storedKeys[index])
                values.append(value)
            }
        }
        storedKeys = keys
        storedValues = values
        positions = Dictionary(uniqueKeysWithValues: zip(keys, keys.indices))
        last = -1
    }
}

extension LastHitList: Sendable where Key: Sendable, Value: Sendable {}
