import TollgateModel

/// Turning a record frame's payload back into a record.
enum RecordFrame {
    /// Decodes a verified record frame's payload; `decompress` turns a zstd frame into its content.
    static func decode(
        flags: UInt8, payload: UnsafeRawBufferPointer, decompress: (UnsafeRawBufferPointer) throws -> [UInt8]
    ) throws -> LogRecord {
        if flags & SegmentFormat.flagCompressed == 0 { return try RecordCodec.decode(payload) }
        let content: [UInt8]
        do {
            content = try decompress(payload)
        } catch let error as ZstdError where error.code == .missingDictionary {
            throw SegmentError(.notFound, "record needs a zstd dictionary that is not in dicts/", cause: error)
        } catch let error as SegmentError {
            throw error
        } catch {
            throw SegmentError(.corrupt, "record frame does not decompress", cause: error)
        }
        return try RecordCodec.decode(content)
    }
}
