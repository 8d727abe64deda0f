/// Names one rollup chunk: its level (`minute`, `hour`, `day`, `month`), account and start (Unix ms).
public struct RollupChunkKey: Sendable, Hashable {
    public var level: String
    public var account: String
    public var chunkStart: Int64

    public init(level: String, account: String, chunkStart: Int64) {
        self.level = level
        self.account = account
        self.chunkStart = chunkStart
    }
}
