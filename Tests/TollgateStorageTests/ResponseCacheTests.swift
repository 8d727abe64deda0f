import Glibc
import Testing
import TollgateModel

@testable import TollgateStorage

/// The on-disk response cache: entries round trip and survive a reopen, expire, are evicted least recently used
/// first, and a torn or damaged file is never served.
struct ResponseCacheTests {
    static func key(_ n: UInt8) -> [UInt8] { Array(repeating: n, count: 32) }

    static func entry(_ n: UInt8, body: Int = 1000, expiresAt: Int64 = 2_000_000, gateway: String = "g")
        -> ResponseCache.Entry
    {
        ResponseCache.Entry(
            key: key(n), account: "a", gateway: gateway, createdAt: 1_000_000, expiresAt: expiresAt, status: 200,
            headers: [Header("content-type", "text/event-stream"), Header("x-request-id", "req-\(n)")],
            body: (0..<body).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ Int(n)) })
    }

    @Test func entriesRoundTripAndSurviveReopen() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = TestClock(1_000_000)
        let configuration = ResponseCache.Configuration(directory: folder.path + "/cache")
        let cache = try ResponseCache(configuration: configuration, now: { clock.now })
        #expect(cache.lookup(Self.key(1)) == nil)
        #expect(try cache.store(Self.entry(1)))
        #expect(cache.lookup(Self.key(1)) == Self.entry(1))
        #expect(cache.statistics.hits == 1 && cache.statistics.misses == 1 && cache.statistics.entries == 1)
        // Replaced under the same key.
        var changed = Self.entry(1, body: 10)
        changed.status = 201
        #expect(try cache.store(changed))
        #expect(cache.lookup(Self.key(1)) == changed)

        let reopened = try ResponseCache(configuration: configuration, now: { clock.now })
        #expect(reopened.lookup(Self.key(1)) == changed)
        #expect(reopened.statistics.bytes == cache.statistics.bytes)
    }

    @Test func expiredEntriesAreNotServedAndAreDeleted() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = TestClock(1_000_000)
        let cache = try ResponseCache(configuration: .init(directory: folder.path), now: { clock.now })
        try cache.store(Self.entry(1, expiresAt: 1_000_500))
        try cache.store(Self.entry(2, expiresAt: 1_001_000))
        clock.advance(by: 500)
        #expect(cache.lookup(Self.key(1)) == nil)
        #expect(cache.lookup(Self.key(2)) != nil)
        clock.advance(by: 500)
        #expect(cache.removeExpired() == 1)
        #expect(try SegmentDirectory.list(folder.path).isEmpty)
        #expect(cache.statistics.entries == 0 && cache.statistics.bytes == 0)
    }

    @Test func leastRecentlyUsedAreEvictedPastTheBound() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = TestClock(1_000_000)
        var configuration = ResponseCache.Configuration(directory: folder.path)
        let size = Int64(CacheEntryCodec.encode(Self.entry(0)).count)
        configuration.maxBytes = 10 * size + size / 2  // room for ten entries
        configuration.maxBodyBytes = 5_000
        let cache = try ResponseCache(configuration: configuration, now: { clock.now })
        for n in 0..<10 { try cache.store(Self.entry(UInt8(n))) }
        #expect(cache.statistics.entries == 10)
        #expect(cache.lookup(Self.key(0)) != nil)  // 0 is now the most recently used
        try cache.store(Self.entry(10))
        // Down to 90 %: the least recently used (1, 2) went, 0 stayed.
        #expect(cache.lookup(Self.key(0)) != nil)
        #expect(cache.lookup(Self.key(1)) == nil && cache.lookup(Self.key(2)) == nil)
        #expect(cache.lookup(Self.key(10)) != nil)
        #expect(cache.statistics.bytes <= configuration.maxBytes && cache.statistics.evictions == 2)
        #expect(try !cache.store(Self.entry(11, body: 5_001)), "a body over the bound is not stored")
    }

    @Test func tornOrDamagedFilesAreNeverServed() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = TestClock(1_000_000)
        var configuration = ResponseCache.Configuration(directory: folder.path)
        configuration.memoryBytes = 0  // every lookup reads its file
        let cache = try ResponseCache(configuration: configuration, now: { clock.now })
        for n: UInt8 in 1...3 { try cache.store(Self.entry(n)) }
        let path = { (n: UInt8) in folder.path + "/" + Hex.lowercase(Self.key(n)) + ".entry" }
        // 1: cut short, as by a crash in the middle of a write. 2: one byte of the body changed.
        let whole = try SegmentDirectory.readWhole(path(1))
        #expect(truncate(path(1), off_t(whole.count / 2)) == 0)
        var damaged = try SegmentDirectory.readWhole(path(2))
        damaged[damaged.count - 10] ^= 0xFF
        try SegmentDirectory.remove(path(2))
        try SegmentFile.create(path(2)).write(damaged, at: 0)
        #expect(cache.lookup(Self.key(2)) == nil)
        #expect(cache.statistics.discarded == 1)
        // A temporary file left by a write cut short, and a file whose name is not its key.
        try SegmentFile.create(path(3) + ".1f2e").write([1, 2, 3], at: 0)
        try SegmentFile.create(path(4)).write(try SegmentDirectory.readWhole(path(3)), at: 0)

        let reopened = try ResponseCache(configuration: configuration, now: { clock.now })
        #expect(reopened.lookup(Self.key(1)) == nil && reopened.lookup(Self.key(4)) == nil)
        #expect(reopened.lookup(Self.key(3)) == Self.entry(3))
        #expect(reopened.statistics.discarded == 2)
        #expect(try SegmentDirectory.list(folder.path).sorted() == [Hex.lowercase(Self.key(3)) + ".entry"])
    }

    /// Entries stored or read are kept in memory too (within `memoryBytes`), so a lookup of one reads no file; one
    /// that expired, was removed or evicted is not answered from memory either.
    @Test func recentEntriesAreAnsweredFromMemoryWithinTheirBound() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let clock = TestClock(1_000_000)
        var configuration = ResponseCache.Configuration(directory: folder.path)
        configuration.memoryBytes = 12_000  // about ten entries of 1,000 bytes
        let cache = try ResponseCache(configuration: configuration, now: { clock.now })
        for n: UInt8 in 1...3 { try cache.store(Self.entry(n)) }
        #expect(cache.lookupInMemory(Self.key(1)) == Self.entry(1))
        // Its file gone, a kept entry still answers from memory; the others are gone for good once removed.
        try SegmentDirectory.remove(folder.path + "/" + Hex.lowercase(Self.key(1)) + ".entry")
        #expect(cache.lookup(Self.key(1)) == Self.entry(1))
        cache.removeAll(account: "a", gateway: "g")
        #expect(cache.lookupInMemory(Self.key(2)) == nil && cache.lookup(Self.key(2)) == nil)
        // Past the bound the least recently used kept entries are let go, and are read from their files again.
        for n: UInt8 in 10...30 { try cache.store(Self.entry(n)) }
        #expect(cache.lookupInMemory(Self.key(10)) == nil)
        #expect(cache.lookupInMemory(Self.key(30)) == Self.entry(30))
        #expect(cache.lookup(Self.key(10)) == Self.entry(10))
        #expect(cache.lookupInMemory(Self.key(10)) == Self.entry(10))
        // Expired: not served from memory.
        clock.advance(by: 1_000_000)
        #expect(cache.lookupInMemory(Self.key(30)) == nil)
    }

    @Test func aGatewaysEntriesAreRemovedTogether() throws {
        let folder = TemporaryDirectory()
        defer { folder.remove() }
        let cache = try ResponseCache(configuration: .init(directory: folder.path), now: { 1_000_000 })
        try cache.store(Self.entry(1, gateway: "g"))
        try cache.store(Self.entry(2, gateway: "g"))
        try cache.store(Self.entry(3, gateway: "other"))
        #expect(cache.removeAll(account: "a", gateway: "g") == 2)
        #expect(cache.lookup(Self.key(1)) == nil && cache.lookup(Self.key(3)) != nil)
    }
}
