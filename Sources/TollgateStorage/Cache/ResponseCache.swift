import Glibc
import Synchronization
import TollgateModel

/// Cached provider responses on disk, one file per entry in the data folder's `cache/`, bounded in bytes with the
/// least recently used evicted first, kept across restarts.
///
/// An entry is written to a temporary file and renamed into place, and carries a CRC-32C of all its bytes: a file
/// torn by a crash, or damaged since, fails its check and is deleted instead of served. (No fsync: a cache entry
/// lost in a crash costs one upstream call; a damaged one is never read as good.) The layout is in `CACHE.md`.
///
/// Calls do blocking file I/O: run them off the event loops — but `lookupInMemory`, which answers from the entries
/// kept in memory as well (the most recently stored and read, up to `memoryBytes`) and never touches a file. The
/// index is in memory, rebuilt at open from the files' headers; lookups and stores of different keys run in
/// parallel.
public final class ResponseCache: Sendable {
    public struct Configuration: Sendable {
        /// The folder of entry files.
        public var directory: String
        /// Bytes of entry files kept at most; the least recently used are evicted past it.
        public var maxBytes: Int64 = 1 << 30
        /// Entries with a larger body are not stored.
        public var maxBodyBytes = 25 << 20
        /// Bytes of entries kept in memory as well (verified when read or written by this process); 0: none.
        public var memoryBytes: Int64 = 64 << 20

        public init(directory: String) {
            self.directory = directory
        }
    }

    /// One cached response.
    public struct Entry: Sendable, Equatable {
        /// The cache key (a SHA-256).
        public var key: [UInt8]
        public var account: String
        public var gateway: String
        /// Unix ms.
        public var createdAt: Int64
        /// Unix ms; not served from this instant on.
        public var expiresAt: Int64
        public var status: Int
        public var headers: [Header]
        /// The response body as received: the whole event stream for a streamed response.
        public var body: [UInt8]

        public init(
            key: [UInt8], account: String, gateway: String, createdAt: Int64, expiresAt: Int64, status: Int,
            headers: [Header], body: [UInt8]
        ) {
            self.key = key
            self.account = account
            self.gateway = gateway
            self.createdAt = createdAt
            self.expiresAt = expiresAt
            self.status = status
            self.headers = headers
            self.body = body
        }
    }

    public struct Statistics: Sendable, Equatable {
        public var entries = 0
        public var bytes: Int64 = 0
        public var hits = 0
        public var misses = 0
        public var evictions = 0
        /// Files found damaged (torn or changed) and deleted.
        public var discarded = 0
    }

    private struct Indexed {
        var account: String
        var gateway: String
        var expiresAt: Int64
        var bytes: Int64
        var lastUse: UInt64
    }

    private struct State {
        var index: [[UInt8]: Indexed] = [:]
        var uses: UInt64 = 0
        var statistics = Statistics()
        /// Entries kept in memory too, and their bytes.
        var memory: [[UInt8]: Entry] = [:]
        var memoryBytes: Int64 = 0
    }

    public let configuration: Configuration
    private let state = Mutex(State())
    private let now: @Sendable () -> Int64

    /// Opens the folder (creating it), indexes the entries found, and deletes temporary, damaged and expired ones.
    public init(configuration: Configuration, now: @escaping @Sendable () -> Int64) throws {
        self.configuration = configuration
        self.now = now
        try SegmentDirectory.ensure(configuration.directory)
        let instant = now()
        var state = State()
        for name in try SegmentDirectory.list(configuration.directory).sorted() {
            let path = configuration.directory + "/" + name
            guard name.hasSuffix(Self.suffix), let key = Self.key(fromFileName: name) else {
                if name.contains(Self.suffix + ".") { try SegmentDirectory.remove(path) }  // a write cut short
                continue
            }
            guard let bytes = try? SegmentDirectory.readWhole(path), let entry = try? CacheEntryCodec.decode(bytes),
                entry.key == key
            else {
                try SegmentDirectory.remove(path)
                state.statistics.discarded += 1
                continue
            }
            guard entry.expiresAt > instant else {
                try SegmentDirectory.remove(path)
                continue
            }
            state.uses += 1
            state.index[key] = Indexed(
                account: entry.account, gateway: entry.gateway, expiresAt: entry.expiresAt,
                bytes: Int64(bytes.count), lastUse: state.uses)
            state.statistics.bytes += Int64(bytes.count)
        }
        state.statistics.entries = state.index.count
        self.state.withLock { $0 = state }
        evictIfNeeded()
    }

    /// The entry stored under `key` when it is kept in memory and has not expired; nil otherwise (then `lookup`
    /// reads its file). No file I/O: safe on an event loop.
    public func lookupInMemory(_ key: [UInt8]) -> Entry? {
        let instant = now()
        return state.withLock { state -> Entry? in
            guard let indexed = state.index[key], indexed.expiresAt > instant, let entry = state.memory[key] else {
                return nil
            }
            state.uses += 1
            state.index[key]?.lastUse = state.uses
            state.statistics.hits += 1
            return entry
        }
    }

    /// The entry stored under `key`, unless it expired or its file does not verify (then it is deleted).
    public func lookup(_ key: [UInt8]) -> Entry? {
        if let entry = lookupInMemory(key) { return entry }
        let instant = now()
        let known = state.withLock { state -> Bool in
            guard let indexed = state.index[key], indexed.expiresAt > instant else {
                state.statistics.misses += 1
                return false
            }
            return true
        }
        guard known else {
            removeIfExpired(key, at: instant)
            return nil
        }
        let path = self.path(of: key)
        guard let bytes = try? SegmentDirectory.readWhole(path), let entry = try? CacheEntryCodec.decode(bytes),
            entry.key == key
        else {
            forget(key, damaged: true)
            try? SegmentDirectory.remove(path)
            return nil
        }
        state.withLock { state in
            state.uses += 1
            state.index[key]?.lastUse = state.uses
            state.statistics.hits += 1
            if state.index[key] != nil { keepInMemory(entry, &state) }
        }
        return entry
    }

    /// Stores an entry, replacing one with the same key; false when its body is over `maxBodyBytes`. Evicts the
    /// least recently used entries while the cache is over `maxBytes`.
    @discardableResult
    public func store(_ entry: Entry) throws -> Bool {
        guard entry.body.count <= configuration.maxBodyBytes, entry.key.count == 32 else { return false }
        let bytes = CacheEntryCodec.encode(entry)
        let path = self.path(of: entry.key)
        let temporary = path + "." + String(UInt64.random(in: 0...UInt64.max), radix: 16)
        let file = try SegmentFile.create(temporary)
        do {
            try file.write(bytes, at: 0)
        } catch {
            try? SegmentDirectory.remove(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = SegmentError.system("rename", path: temporary)
            try? SegmentDirectory.remove(temporary)
            throw error
        }
        let victims = state.withLock { state -> [[UInt8]] in
            if let old = state.index[entry.key] { state.statistics.bytes -= old.bytes }
            state.uses += 1
            state.index[entry.key] = Indexed(
                account: entry.account, gateway: entry.gateway, expiresAt: entry.expiresAt,
                bytes: Int64(bytes.count), lastUse: state.uses)
            state.statistics.bytes += Int64(bytes.count)
            state.statistics.entries = state.index.count
            keepInMemory(entry, &state)
            // Under the same lock, so the count never shows the cache past its bound.
            return evict(&state)
        }
        for key in victims { try? SegmentDirectory.remove(self.path(of: key)) }
        return true
    }

    /// Deletes a gateway's entries (its settings changed with `cache_invalidate_on_update`); returns how many.
    @discardableResult
    public func removeAll(account: String, gateway: String) -> Int {
        let keys = state.withLock { state in
            state.index.filter { $0.value.account == account && $0.value.gateway == gateway }.map(\.key)
        }
        for key in keys { remove(key) }
        return keys.count
    }

    /// Deletes the expired entries; returns how many.
    @discardableResult
    public func removeExpired() -> Int {
        let instant = now()
        let keys = state.withLock { state in state.index.filter { $0.value.expiresAt <= instant }.map(\.key) }
        for key in keys { remove(key) }
        return keys.count
    }

    public var statistics: Statistics { state.withLock { $0.statistics } }

    // MARK: Files and index

    static let suffix = ".entry"

    private func path(of key: [UInt8]) -> String {
        configuration.directory + "/" + Hex.lowercase(key) + Self.suffix
    }

    private func remove(_ key: [UInt8]) {
        forget(key, damaged: false)
        try? SegmentDirectory.remove(path(of: key))
    }

    private func removeIfExpired(_ key: [UInt8], at instant: Int64) {
        let expired = state.withLock { $0.index[key].map { $0.expiresAt <= instant } ?? false }
        if expired { remove(key) }
    }

    private func forget(_ key: [UInt8], damaged: Bool) {
        state.withLock { state in
            if let old = state.index.removeValue(forKey: key) { state.statistics.bytes -= old.bytes }
            if let kept = state.memory.removeValue(forKey: key) { state.memoryBytes -= Self.memorySize(kept) }
            if damaged {
                state.statistics.discarded += 1
                state.statistics.misses += 1
            }
            state.statistics.entries = state.index.count
        }
    }

    /// Keeps `entry` in memory as well; past `memoryBytes`, the least recently used kept entries are let go (down to
    /// 90 % of it). Under the state's lock.
    private func keepInMemory(_ entry: Entry, _ state: inout State) {
        let size = Self.memorySize(entry)
        guard size <= configuration.memoryBytes / 4 else { return }
        if let old = state.memory.updateValue(entry, forKey: entry.key) { state.memoryBytes -= Self.memorySize(old) }
        state.memoryBytes += size
        guard state.memoryBytes > configuration.memoryBytes else { return }
        let target = configuration.memoryBytes / 10 * 9
        let order = state.memory.keys.sorted { (state.index[$0]?.lastUse ?? 0) < (state.index[$1]?.lastUse ?? 0) }
        for key in order where state.memoryBytes > target {
            if let kept = state.memory.removeValue(forKey: key) { state.memoryBytes -= Self.memorySize(kept) }
        }
    }

    private static func memorySize(_ entry: Entry) -> Int64 {
        Int64(entry.body.count + entry.headers.reduce(128) { $0 + $1.name.utf8.count + $1.value.utf8.count })
    }

    /// Past `maxBytes`, deletes the least recently used entries down to 90 % of it (so eviction runs in batches).
    private func evictIfNeeded() {
        let victims = state.withLock { evict(&$0) }
        for key in victims { try? SegmentDirectory.remove(path(of: key)) }
    }

    /// Takes the least recently used entries out of the index while past `maxBytes`; returns their keys, whose
    /// files the caller deletes after the lock.
    private func evict(_ state: inout State) -> [[UInt8]] {
        guard state.statistics.bytes > configuration.maxBytes else { return [] }
        let target = configuration.maxBytes / 10 * 9
        var victims: [[UInt8]] = []
        for (key, indexed) in state.index.sorted(by: { $0.value.lastUse < $1.value.lastUse }) {
            guard state.statistics.bytes > target else { break }
            // Out of the index (and its bytes out of the count) at once; the files go after the lock.
            state.index[key] = nil
            state.statistics.bytes -= indexed.bytes
            if let kept = state.memory.removeValue(forKey: key) { state.memoryBytes -= Self.memorySize(kept) }
            victims.append(key)
        }
        state.statistics.evictions += victims.count
        state.statistics.entries = state.index.count
        return victims
    }

    static func key(fromFileName name: String) -> [UInt8]? {
        let hex = name.dropLast(suffix.count)
        guard hex.utf8.count == 64 else { return nil }
        return Hex.bytes(lowercase: hex)
    }
}

/// The bytes of a cache entry file (see `CACHE.md`).
enum CacheEntryCodec {
    static let magic: [UInt8] = Array("TGCE".utf8)
    static let version: UInt8 = 1

    static func encode(_ entry: ResponseCache.Entry) -> [UInt8] {
        var body = WireWriter(capacity: 128 + entry.body.count)
        body.raw(entry.key)
        body.zigzag(entry.createdAt)
        body.zigzag(entry.expiresAt)
        body.lengthPrefixed(entry.account)
        body.lengthPrefixed(entry.gateway)
        body.varint(UInt64(entry.status))
        body.varint(UInt64(entry.headers.count))
        for header in entry.headers {
            body.lengthPrefixed(header.name)
            body.lengthPrefixed(header.value)
        }
        body.lengthPrefixed(entry.body)
        var out = WireWriter(capacity: body.bytes.count + 9)
        out.raw(magic)
        out.u8(version)
        out.u32(CRC32C.checksum(body.bytes))
        out.raw(body.bytes)
        return out.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> ResponseCache.Entry {
        guard bytes.count >= 9, Array(bytes[0..<4]) == magic else {
            throw SegmentError(.corrupt, "not a cache entry")
        }
        guard bytes[4] == version else { throw SegmentError(.unsupportedVersion, "cache entry version \(bytes[4])") }
        return try bytes.withUnsafeBytes { raw in
            var header = WireReader(raw, from: 5, to: 9)
            let checksum = try header.u32()
            let payload = UnsafeRawBufferPointer(rebasing: raw[9...])
            guard CRC32C.checksum(payload) == checksum else { throw SegmentError(.corrupt, "cache entry checksum") }
            var reader = WireReader(raw, from: 9)
            let key = try reader.bytes(32)
            let createdAt = try reader.zigzag()
            let expiresAt = try reader.zigzag()
            let account = try reader.string(reader.length())
            let gateway = try reader.string(reader.length())
            let status = Int(try reader.varint())
            let count = try reader.length()
            var headers: [Header] = []
            for _ in 0..<count {
                let name = try reader.string(reader.length())
                headers.append(Header(name, try reader.string(reader.length())))
            }
            let body = try reader.bytes(reader.length())
            guard reader.isAtEnd else { throw SegmentError(.corrupt, "cache entry has trailing bytes") }
            return ResponseCache.Entry(
                key: key, account: account, gateway: gateway, createdAt: createdAt, expiresAt: expiresAt,
                status: status, headers: headers, body: body)
        }
    }
}
