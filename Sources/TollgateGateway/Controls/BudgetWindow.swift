/// What has been spent of one budget over time — requests for a rate limit, picodollars for a spend limit — and
/// whether the budget has room now. A pure value: every instant comes from the caller.
///
/// `fixed` counts since the window's start (a multiple of the window since the Unix epoch). `sliding` keeps the
/// amounts of the last window in time slots of 1/64 of it, and the budget has room when the amounts in the slots
/// overlapping the window ending now are below the limit. Counting a partly overlapping oldest slot whole errs on
/// the safe side: no window ever holds more than the limit allows, and room may come back up to one slot (1/64 of
/// the window) later than an exact record would give it. Memory is 65 sums, whatever the limit or the traffic.
public struct BudgetWindow: Sendable, Equatable {
    /// Slots per window of a sliding budget.
    public static let slotsPerWindow = 64

    public enum Technique: String, Sendable, Hashable, CaseIterable {
        /// Windows aligned to their length since the Unix epoch; the count starts again at each boundary.
        case fixed
        /// No more than the limit in any window ending now.
        case sliding
    }

    /// Milliseconds.
    public let length: Int64
    public let technique: Technique
    /// Sliding: milliseconds per slot.
    private let slot: Int64

    /// Fixed: the start of the current window. Sliding: the start of the newest slot counted.
    private var newest: Int64 = .min
    /// Fixed: spent in the current window.
    private var spent: Int64 = 0
    /// Sliding: spent per slot, a ring indexed by slot number. One more slot than a window holds, since a window
    /// ending inside a slot overlaps 65 of them.
    private var ring: [Int64] = []

    public init(lengthMilliseconds: Int64, technique: Technique) {
        precondition(lengthMilliseconds >= 1)
        self.length = lengthMilliseconds
        self.technique = technique
        let slots = Int64(Self.slotsPerWindow)
        self.slot = (lengthMilliseconds + slots - 1) / slots
        if technique == .sliding { ring = Array(repeating: 0, count: Self.slotsPerWindow + 1) }
    }

    /// Whether a request may go ahead at an instant.
    public enum Decision: Sendable, Equatable {
        case room
        /// No room; there will be some this many milliseconds later (at least 1), unless more is spent.
        case full(retryAfterMilliseconds: Int64)
    }

    /// Spent within the window ending at `now` (Unix ms).
    public mutating func spent(at now: Int64) -> Int64 {
        switch technique {
        case .fixed:
            roll(to: now)
            return spent
        case .sliding:
            let current = advance(to: now)
            var total: Int64 = 0
            var s = firstSlot(at: now)
            while s <= current {
                total &+= ring[index(s)]
                s += slot
            }
            return total
        }
    }

    /// Whether there is room at `now`: spent below `limit`.
    public mutating func check(limit: Int64, at now: Int64) -> Decision {
        let total = spent(at: now)
        guard total >= limit else { return .room }
        switch technique {
        case .fixed:
            return .full(retryAfterMilliseconds: max(1, newest + length - now))
        case .sliding:
            // Room comes back once enough of the oldest amounts have left the window. The slot starting at `a`
            // has left it from the instant a + slot + length - 1 on.
            let current = Self.floor(max(now, newest), slot)
            var toLeave = total - limit + 1
            var s = firstSlot(at: now)
            while s < current {
                toLeave -= ring[index(s)]
                if toLeave <= 0 { break }
                s += slot
            }
            return .full(retryAfterMilliseconds: max(1, s + slot + length - 1 - now))
        }
    }

    /// Adds `amount` spent at `now`.
    public mutating func add(_ amount: Int64, at now: Int64) {
        switch technique {
        case .fixed:
            roll(to: now)
            spent &+= amount
        case .sliding:
            let current = advance(to: now)
            ring[index(current)] &+= amount
        }
    }

    /// Checks for room and, when there is, spends `amount` at once: what a rate limit does per request.
    public mutating func take(_ amount: Int64, limit: Int64, at now: Int64) -> Decision {
        let decision = check(limit: limit, at: now)
        if decision == .room { add(amount, at: now) }
        return decision
    }

    /// Whether nothing spent is inside the window ending at `now`, so the budget can be forgotten.
    public func isIdle(at now: Int64) -> Bool {
        switch technique {
        case .fixed:
            return spent == 0 || Self.floor(now, length) > newest
        case .sliding:
            guard newest != .min else { return true }
            var s = max(firstSlot(at: now), newest - Int64(ring.count - 1) * slot)
            while s <= newest {
                if ring[index(s)] != 0 { return false }
                s += slot
            }
            return true
        }
    }

    private mutating func roll(to now: Int64) {
        let windowStart = Self.floor(now, length)
        if windowStart > newest {
            newest = windowStart
            spent = 0
        }
    }

    /// The start of the oldest slot holding an instant of (now - length, now].
    private func firstSlot(at now: Int64) -> Int64 { Self.floor(now - length + 1, slot) }

    /// Makes the slot of `now` the newest (an instant older than the newest counts as the newest), clearing the
    /// ring's slots in between; returns that slot's start.
    private mutating func advance(to now: Int64) -> Int64 {
        let current = Self.floor(now, slot)
        guard current > newest else { return newest }
        if newest == .min || current - newest >= Int64(ring.count) * slot {
            for i in ring.indices { ring[i] = 0 }
        } else {
            var s = newest + slot
            while s <= current {
                ring[index(s)] = 0
                s += slot
            }
        }
        newest = current
        return current
    }

    private func index(_ slotStart: Int64) -> Int {
        let n = Int64(ring.count)
        return Int(((slotStart / slot) % n + n) % n)
    }

    /// `value` rounded down to a multiple of `step`, also below zero.
    static func floor(_ value: Int64, _ step: Int64) -> Int64 {
        let q = value / step
        return (value % step != 0 && value < 0 ? q - 1 : q) * step
    }
}
