/// Values by 64-bit key, kept in the order their keys came, as the rollup fold finds its chunks (by start) and a
/// chunk's cells (by `CellKey.packed`): `LastHitList`'s behaviour, with its own hash table instead of a `Dictionary`.
///
/// A `Dictionary` hashes every key through Swift's seeded SipHash: about 220 instructions a lookup and 700 an
/// insertion of a cell, four of each a record when `tollgate generate` or a rollup rebuild folds records whose series
/// change from one to the next. Here a key's slot is its Fibonacci hash (one multiplication and a shift: the keys are
/// not chosen by a client, so nothing needs a seed), probed linearly in a table at most half full.
struct PackedKeyTable<Value> {
    private(set) var keys: [UInt64] = []
    private(set) var values: [Value] = []
    /// Each slot holds a position in `keys` + 1, or 0 when free. Its count is a power of two.
    private var slots: [Int32] = []
    /// 64 − log2(slots.count).
    private var shift: UInt64 = 64
    /// The position of the key looked up last; -1 before any.
    private var last = -1

    init() {}

    var isEmpty: Bool { keys.isEmpty }
    var count: Int { keys.count }

    /// Calls `body` with the value of `key`, in place; `empty` is its value the first time.
    @inline(__always)
    mutating func withValue<T>(_ key: UInt64, empty: @autoclosure () -> Value, _ body: (inout Value) throws -> T)
        rethrows -> T
    {
        if last < 0 || keys[last] != key { last = position(of: key) ?? insert(key, empty()) }
        return try body(&values[last])
    }

    /// The value of `key`, nil when it has none.
    func value(of key: UInt64) -> Value? { position(of: key).map { values[$0] } }

    private func position(of key: UInt64) -> Int? {
        guard !slots.isEmpty else { return nil }
        let mask = slots.count &- 1
        var slot = Self.slot(of: key, shift: shift)
        while true {
            let held = Int(slots[slot])
            if held == 0 { return nil }
            if keys[held &- 1] == key { return held &- 1 }
            slot = (slot &+ 1) & mask
        }
    }

    /// Adds `key` (not here) with `value` and returns its position.
    private mutating func insert(_ key: UInt64, _ value: Value) -> Int {
        if (keys.count &+ 1) &* 2 > slots.count { grow() }
        let position = keys.count
        keys.append(key)
        values.append(value)
        place(position)
        return position
    }

    /// Puts the key at `position` in the first free slot from its own.
    private mutating func place(_ position: Int) {
        let mask = slots.count &- 1
        var slot = Self.slot(of: keys[position], shift: shift)
        while slots[slot] != 0 { slot = (slot &+ 1) & mask }
        slots[slot] = Int32(truncatingIfNeeded: position &+ 1)
    }

    /// Doubles the slots (16 at first) and places every key again.
    private mutating func grow() {
        let count = max(16, slots.count &* 2)
        slots = [Int32](repeating: 0, count: count)
        shift = UInt64(64 &- count.trailingZeroBitCount)
        for position in keys.indices { place(position) }
    }

    @inline(__always)
    private static func slot(of key: UInt64, shift: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) &>> shift)
    }
}

extension PackedKeyTable: Sendable where Value: Sendable {}
