/// How one column of a rollup chunk part is cut into rows of `rollup_chunks` (migration 0019): pieces of about a
/// quarter of a page, so rows fill the table's leaf pages instead of spilling into half-empty overflow pages.
enum RollupChunkPieces {
    /// The catalog's page size: SQLite's default, which the catalog keeps.
    static let pageSize = 4_096

    /// A row's share of a leaf page when four fit one: the page less its 8-byte header, over four, less each cell's
    /// pointer and header (rowid and payload length).
    static let rowPayload = (pageSize - 8) / 4 - 8

    /// What a row's payload takes besides its data and the key's text: the record header (a byte per column, two
    /// for the blob's), the chunk start (6 bytes), part and piece (a byte each), with room to spare.
    static let rowOverhead = 24

    /// The data bytes a piece holds in a row whose key text (level, account, measure) takes `keyText` bytes; at
    /// least 256, so a very long account name makes larger rows rather than many more of them.
    static func pieceBytes(keyText: Int) -> Int { max(256, rowPayload - rowOverhead - keyText) }

    /// `data` cut into pieces of at most `pieceBytes` bytes, in order; one empty piece for empty data.
    static func pieces(of data: [UInt8], pieceBytes: Int) -> [ArraySlice<UInt8>] {
        guard !data.isEmpty else { return [data[...]] }
        return stride(from: 0, to: data.count, by: pieceBytes).map { data[$0..<min($0 + pieceBytes, data.count)] }
    }
}
