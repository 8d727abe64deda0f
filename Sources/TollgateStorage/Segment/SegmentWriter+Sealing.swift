import CZstd
import TollgateModel

extension SegmentWriter {
    /// Writes the buffer, then the index, columns and footer frames, and fsyncs the file. The writer keeps the
    /// (now sealed) file open until `startSegment` replaces it.
    ///
    /// With `deferringSync` (a rotation during an append) the fsync is left to the next commit (`PendingSeal`): a
    /// commit's fsync still running is not waited for either. One seal waits at a time: an earlier one is made
    /// durable first.
    func sealActive(deferringSync: Bool = false) throws {
        // An earlier seal's fsync running in a commit is waited for rather than made twice.
        if let seal = pendingSeal, syncing?.sealSegment == seal.sealed.segment { try settleSync() }
        try completePendingSeal()
        if !deferringSync { try settleSync() }
        try flush()
        activeColumns.flush()
        let columns = activeColumns
        let footer = try Self.writeSealFrames(
            columns: columns, at: writtenBytes, version: activeVersion, compressor: columnsCompressor
        ) {
            try writeActive($0, at: writtenBytes)
            writtenBytes += UInt64($0.count)
        }
        let sealed = SealedSegment(
            segment: activeSegment, footer: footer, bytes: writtenBytes, rows: SealedRows(columns))
        if deferringSync {
            activeSealed = true
            unsyncedBytes = false
            journalBuffer.removeAll(keepingCapacity: true)
            pendingSeal = PendingSeal(
                sealed: sealed, file: file, journal: journal, version: activeVersion, columns: columns,
                durable: durable)
            // Kept until the seal is durable; the next segment brings its own.
            journal = nil
            journalBytes = 0
            durable.journalBytes = 0
            return
        }
        // The segment alone: once its seal frames are durable its journal is not read again (it is deleted next),
        // and before that recovery reads what of the journal the last commit made durable, as after any crash.
        try SegmentSync.sync(file: file, journal: nil, faults: configuration.faults)
        activeSealed = true
        unsyncedBytes = false
        markDurable()
        journalBuffer.removeAll(keepingCapacity: true)
        let sealedJournal = journal
        journal = nil
        journalBytes = 0
        durable.journalBytes = 0
        removeJournal(sealedJournal, of: activeSegment)
        announce(sealed)
    }

    /// Logs a durable seal and hands it to `onSeal`.
    func announce(_ sealed: SealedSegment) {
        logger.debug(
            "sealed segment",
            metadata: [
                "segment.index": "\(sealed.segment)", "segment.records": "\(sealed.footer.recordCount)",
                "segment.bytes": "\(sealed.bytes)",
            ])
        onSeal?(sealed)
    }

    /// The window of the compressor of columns frames: what a seal holds of the encoded columns at most (zstd's
    /// default for a frame of a few MB would be the whole of it).
    static let columnsWindowLog: Int32 = 17

    /// A compressor for columns frames.
    static func makeColumnsCompressor(level: Int32) throws -> ZstdCompressor {
        try ZstdCompressor(level: level, windowLog: columnsWindowLog)
    }

    /// Writes the index, columns and footer frames that seal a segment of format `version` whose record frames end
    /// at `offset` and whose rows are `columns`, handing the bytes to `write` in file order, and returns the footer.
    ///
    /// The frames are made as they are written, so a seal never holds its encoded columns whole (at 65,536 rows
    /// about 2 MB): they are compressed as they are encoded, and only the compressed columns are held, since their
    /// header, with length and checksum, comes first. A version 3 segment's grouped index (about 15 bytes a row) is
    /// made whole, and the columns then leave out what it holds (each row's id and location); a fixed index (28
    /// bytes a row) goes in pieces, made twice (first for its header's checksum).
    static func writeSealFrames(
        columns: ColumnBuilder, at offset: UInt64, version: UInt8, compressor: ZstdCompressor,
        write: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> SegmentFooter {
        let order = SegmentIndex.order(of: columns.ids)
        let indexLength: Int
        // A grouped index names every row's id and location, so the columns frame leaves them out.
        var positionsInColumns = true
        // Version 5: always grouped, since its columns' groups never hold the rows' positions.
        if version >= 3,
            let grouped = GroupedIndex.encode(
                ids: columns.ids, offsets: columns.offsets, lengths: columns.lengths, order: order,
                evenWhenLarger: version >= 5)
        {
            indexLength = grouped.count
            positionsInColumns = false
            try SegmentFormat.frameHeader(type: .groupedIndex, flags: 0, payload: grouped).withUnsafeBytes(write)
            try grouped.withUnsafeBytes(write)
        } else {
            func index(_ sink: (UnsafeRawBufferPointer) throws -> Void) rethrows {
                try SegmentIndex.encode(
                    ids: columns.ids, offsets: columns.offsets, lengths: columns.lengths, order: order, into: sink)
            }
            indexLength = SegmentIndex.payloadSize(count: columns.count)
            try SegmentFormat.frameHeader(type: .index, flags: 0, length: indexLength, payload: index)
                .withUnsafeBytes(write)
            try index(write)
        }

        let columnsLength: Int
        if columns.isGrouped && !positionsInColumns {
            columnsLength = try writeGroupedColumns(columns, compressor: compressor, write: write)
        } else {
            // Rows a grouped index cannot name (not block locations) go in version 4's columns, positions and all.
            let columns = columns.isGrouped ? try columns.ungrouped() : columns
            let contentSize = columns.encodedSize(positions: positionsInColumns)
            var compressed: [UInt8] = []
            compressed.reserveCapacity(ZSTD_compressBound(contentSize))
            try compressor.compress(size: contentSize) {
                try columns.encode(positions: positionsInColumns, into: $0)
            } output: {
                compressed.append(contentsOf: $0)
            }
            try SegmentFormat.frameHeader(
                type: .columns, flags: SegmentFormat.flagCompressed, length: compressed.count
            ) {
                try compressed.withUnsafeBytes($0)
            }.withUnsafeBytes(write)
            try compressed.withUnsafeBytes(write)
            columnsLength = SegmentFormat.frameHeaderSize + compressed.count
        }

        let indexOffset = offset
        let indexFrameLength = SegmentFormat.frameHeaderSize + indexLength
        let columnsOffset = indexOffset + UInt64(indexFrameLength)
        let range = columns.idRange
        let footer = SegmentFooter(
            indexOffset: indexOffset, indexLength: UInt32(indexFrameLength), columnsOffset: columnsOffset,
            columnsLength: UInt32(columnsLength), recordCount: UInt32(columns.count),
            minID: range?.min ?? LogID(high: 0, low: 0), maxID: range?.max ?? LogID(high: 0, low: 0))
        var footerFrame: [UInt8] = []
        SegmentFormat.appendFrame(type: .footer, flags: 0, payload: footer.encodePayload(), to: &footerFrame)
        try footerFrame.withUnsafeBytes(write)
        return footer
    }

    /// Writes a grouped columns frame (FORMAT.md, *Format version 5*): each group compressed alone, the head, then
    /// the groups. Returns the frame's length.
    private static func writeGroupedColumns(
        _ columns: ColumnBuilder, compressor: ZstdCompressor, write: (UnsafeRawBufferPointer) throws -> Void
    ) throws -> Int {
        let groups = try columns.groupContents().map { try compressor.compress($0) }
        let head = ColumnGroups.head(rows: columns.count, groupRows: columns.groupRows, groups: groups)
        let length = groups.reduce(head.count) { $0 + $1.count }
        try SegmentFormat.frameHeader(type: .columns, flags: 0, length: length) { crc in
            try head.withUnsafeBytes(crc)
            for group in groups { try group.withUnsafeBytes(crc) }
        }.withUnsafeBytes(write)
        try head.withUnsafeBytes(write)
        for group in groups { try group.withUnsafeBytes(write) }
        return SegmentFormat.frameHeaderSize + length
    }

    /// Version 4: deletes the journal of sealed segment `segment` once its seal is durable: its columns now hold
    /// what the journal held. A journal left by a failed delete is stale, deleted on the next open (FORMAT.md,
    /// *Format version 4*).
    func removeJournal(_ journal: SegmentFile?, of segment: UInt32) {
        guard let journal else { return }
        do {
            try SegmentDirectory.remove(journal.path)
        } catch {
            logger.warning(
                "could not delete the journal of a sealed segment",
                metadata: ["segment.index": "\(segment)", "error": "\(error)"])
        }
    }

    /// Creates segment `sequence` (header, fsync of file and folder; version 4, its journal too), or takes the files
    /// made ahead for it (`beginNextSegment`), and makes it the active segment.
    func startSegment(_ sequence: UInt32) throws {
        let made = try takeOrCreateFiles(sequence)
        if let newJournal = made.journal {
            journal = newJournal
            journalBytes = UInt64(SegmentFormat.fileHeaderSize)
        }
        let newFile = made.file
        file = newFile
        activeSegment = sequence
        activeVersion = configuration.formatVersion
        block.removeAll()
        writtenBytes = UInt64(SegmentFormat.fileHeaderSize)
        unsyncedBytes = false
        activeColumns = ColumnBuilder(
            segment: sequence, groupRows: configuration.columnGroupRows(version: configuration.formatVersion))
        activeSealed = false
        durable = DurablePoint(
            bytes: writtenBytes, journalBytes: journalBytes, records: 0,
            rotation: configuration.rotation(bytes: writtenBytes))
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
