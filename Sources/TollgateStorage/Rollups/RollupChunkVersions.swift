import Foundation
import Synchronization

/// Which rollup chunks the rollup writes of this process changed, and when: what lets a reader keep decoded chunks
/// in memory between queries and know, without reading a byte of them, whether its snapshot still holds exactly
/// what it decoded.
///
/// One per catalog file in the process (`shared(path:)`), so every `RollupStore` of a data folder — the writing
/// engine's and any other — sees the same changes. Other processes do not write a folder the gateway serves (the
/// data folder lock keeps writing commands out).
///
/// Every rollup write transaction (`RollupStore.write`, `reset`) counts as one step of `sequence`. A chunk the
/// transaction changes is marked *being written* from its first change until the transaction ended (committed or
/// rolled back), then gets the transaction's step as its version. A reader notes `sequence` before its snapshot
/// begins; a chunk is *settled* for that snapshot when it is not being written and its version is at most the noted
/// step: its last change committed before the snapshot began, and any later change cannot be in it. What was decoded
/// of a settled chunk at version v is what every snapshot that finds it settled at version v holds.
public final class RollupChunkVersions: Sendable {
    private struct State {
        var sequence: UInt64 = 0
        /// Chunks changed by a transaction that has not ended, with how many such transactions.
        var writing: [RollupChunkKey: Int] = [:]
        /// Transactions under way that change every chunk (`reset`).
        var writingAll = 0
        /// The step of the last ended transaction that changed each chunk.
        var versions: [RollupChunkKey: UInt64] = [:]
        /// The step of the last `reset`: every chunk's version is at least this.
        var resetAt: UInt64 = 0
    }

    private let state = Mutex(State())

    private static let registry = Mutex<[String: RollupChunkVersions]>([:])

    /// The versions of the catalog file at `path`.
    public static func shared(path: String) -> RollupChunkVersions {
        let key = URL(fileURLWithPath: path).standardizedFileURL.path
        return registry.withLock { all in
            if let existing = all[key] { return existing }
            let created = RollupChunkVersions()
            all[key] = created
            return created
        }
    }

    /// The current step; a reader notes it before its snapshot begins.
    public var sequence: UInt64 { state.withLock { $0.sequence } }

    /// The version of `chunk` if it is settled for a snapshot begun after `sequence` was `noted`, else nil.
    public func settledVersion(of chunk: RollupChunkKey, noted: UInt64) -> UInt64? {
        state.withLock { s in
            guard s.writingAll == 0, s.writing[chunk] == nil else { return nil }
            let version = max(s.versions[chunk] ?? 0, s.resetAt)
            return version <= noted ? version : nil
        }
    }

    /// Marks `chunk` as being written by a transaction until `ended(_:)`.
    func beginWriting(_ chunk: RollupChunkKey) {
        state.withLock { $0.writing[chunk, default: 0] += 1 }
    }

    /// Marks every chunk as being written (a reset) until `ended(_:all:)`.
    func beginWritingAll() {
        state.withLock { $0.writingAll += 1 }
    }

    /// Ends a transaction that began writing `chunks` (and every chunk with `all`): one more step, the chunks'
    /// version. Called whether it committed or not (a rolled back change only costs a reader a decode).
    func ended(_ chunks: some Sequence<RollupChunkKey>, all: Bool = false) {
        state.withLock { s in
            s.sequence += 1
            for chunk in chunks {
                s.versions[chunk] = s.sequence
                if let n = s.writing[chunk], n > 1 { s.writing[chunk] = n - 1 } else { s.writing[chunk] = nil }
            }
            if all {
                s.writingAll -= 1
                s.resetAt = s.sequence
                // Every version is at most `resetAt` now.
                s.versions = [:]
            }
        }
    }
}

/// The chunks one write transaction changed, in the order it first changed them.
final class RollupTouchedChunks: @unchecked Sendable {
    // Used by the one thread running the transaction.
    private(set) var chunks: [RollupChunkKey] = []
    private var seen: Set<RollupChunkKey> = []
    let versions: RollupChunkVersions

    init(versions: RollupChunkVersions) {
        self.versions = versions
    }

    /// Marks `chunk` as being written on its first change in the transaction.
    func touch(_ chunk: RollupChunkKey) {
        guard seen.insert(chunk).inserted else { return }
        versions.beginWriting(chunk)
        chunks.append(chunk)
    }
}
