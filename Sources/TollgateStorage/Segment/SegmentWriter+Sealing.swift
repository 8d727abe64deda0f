import TollgateModel

extension SegmentWriter {
    /// Writes the buffer, then the index, columns and footer frames, and fsyncs the file. The writer keeps the
    /// (now sealed) file open until `startSegment` replaces it.
    func sealActive() throws {
        try flush()
        let columns = activeColumns
        let seal = try Self.sealFrames(
            columns: columns, segment: activeSegment, at: writtenBytes, compressor: columnsCompressor)
        for piece in seal.pieces {
            try writeActive(piece, at: writtenBytes)
            writtenBytes += UInt64(piece.count)
        }
        let footer = seal.footer
        try syncActive()
        unsyncedBytes = false
        markDurable()
        activeSealed = true
        let sealed = SealedSegment(
            segment: activeSegment, footer: footer, bytes: writtenBytes, rows: SealedRows(columns))
        logger.debug(
            "sealed segment",
            metadata: [
                "segment.index": "\(activeSegment)", "segment.records": "\(columns.count)",
                "segment.bytes": "\(writtenBytes)",
            ])
        onSeal?(sealed)
    }

    /// The index, columns and footer frames that seal a segment whose record frames end at `offset` and whose
    /// rows are `columns`: the pieces to write at `offset` in order (frame headers and payloads, never copied
    /// into one buffer), and the footer they end with.
    static func sealFrames(
        columns: ColumnBuilder, segment: UInt32, at offset: UInt64, compressor: ZstdCompressor
    ) throws -> (pieces: [[UInt8]], footer: SegmentFooter) {
        let compressedColumns = try compressor.compress(columns.encode())
        let index = SegmentIndex.encode(ids: columns.ids, offsets: columns.offsets, lengths: columns.lengths)
        let indexOffset = offset
        let indexLength = SegmentFormat.frameHeaderSize + index.count
        let columnsOffset = indexOffset + UInt64(indexLength)
        let columnsLength = SegmentFormat.frameHeaderSize + compressedColumns.count
        let range = columns.idRange
        let footer = SegmentFooter(
            indexOffset: indexOffset, indexLength: UInt32(indexLength), columnsOffset: columnsOffset,
            columnsLength: UInt32(columnsLength), recordCount: UInt32(columns.count),
            minID: range?.min ?? LogID(high: 0, low: 0), maxID: range?.max ?? LogID(high: 0, low: 0))
        var footerFrame: [UInt8] = []
        SegmentFormat.appendFrame(type: .footer, flags: 0, payload: footer.encodePayload(), to: &footerFrame)
        let pieces = [
            SegmentFormat.frameHeader(type: .index, flags: 0, payload: index), index,
            SegmentFormat.frameHeader(type: .columns, flags: SegmentFormat.flagCompressed, payload: compressedColumns),
            compressedColumns, footerFrame,
        ]
        return (pieces, footer)
    }

    /// Creates segment `sequence` (header, fsync of file and folder) and makes it the active segment.
    func startSegment(_ sequence: UInt32) throws {
        let path = segmentsPath + "/" + SegmentFormat.fileName(sequence)
        try configuration.faults?.check(.segmentCreate, call: "create", path: path)
        let newFile = try SegmentFile.create(path)
        try newFile.write(SegmentFormat.fileHeader(sequence: sequence, version: configuration.formatVersion), at: 0)
        try newFile.sync()
        try SegmentDirectory.sync(segmentsPath)
        file = newFile
        activeSegment = sequence
        activeVersion = configuration.formatVersion
        block.removeAll()
        writtenBytes = UInt64(SegmentFormat.fileHeaderSize)
        unsyncedBytes = false
        activeColumns = ColumnBuilder(segment: sequence)
        activeSealed = false
        durableRotation = SegmentRotation(
            maxBytes: configuration.maxSegmentBytes, maxRecords: configuration.maxSegmentRecords,
            maxAgeMillis: configuration.maxSegmentAgeMillis,
            bytes: writtenBytes)
        durableBytes = writtenBytes
        durableRecords = 0
    }

    /// Keeps pieces of a record encoding as dictionary samples; trains, saves and switches to a dictionary once
    /// enough are in (see `DictionaryTraining`). A training or save that fails is logged and tried again later; it
    /// never fails the append.
    func sample(_ encoded: [UInt8]) {
        guard training.add(encoded) else { return }
        let id = (dictionaries.last.map { $0.id + 1 }) ?? 32768
        let dictionary: ZstdDictionary
        if let trained = training.unsaved {
            dictionary = trained
        } else {
            let samples = training.samples
            do {
                dictionary = try ZstdDictionary.train(
                    samples: samples, capacity: configuration.dictionaryCapacity, id: id,
                    level: configuration.compressionLevel)
            } catch {
                let retryAfter = training.failed()
                logger.warning(
                    "zstd dictionary training failed; records are compressed without one until a later try",
                    metadata: [
                        "error": "\(error)", "dictionary.samples": "\(samples.count)",
                        "dictionary.retry_after_records": "\(retryAfter)",
                    ])
                return
            }
        }
        do {
            // Durable before the first frame that needs it.
            try configuration.faults?.check(
                .dictionaryWrite, call: "write", path: SegmentDictionaries.path(id, in: dictionariesPath))
            try SegmentDictionaries.save(dictionary, in: dictionariesPath)
        } catch {
            let retryAfter = training.saveFailed(dictionary)
            logger.warning(
                "zstd dictionary could not be saved; records are compressed without one until a later try",
                metadata: ["error": "\(error)", "dictionary.retry_after_records": "\(retryAfter)"])
            return
        }
        let samples = training.samples.count
        training.finished()
        dictionaries.append(dictionary)
        do {
            compressor = try ZstdCompressor(level: configuration.compressionLevel, dictionary: dictionary)
        } catch {
            logger.warning("zstd dictionary could not be loaded", metadata: ["error": "\(error)"])
            return
        }
        logger.info(
            "trained zstd dictionary",
            metadata: [
                "dictionary.id": "\(id)", "dictionary.bytes": "\(dictionary.bytes.count)",
                "dictionary.samples": "\(samples)",
            ])
    }
}
