import Glibc
import TollgateModel

extension SegmentWriter {
    /// Opens the store: folders, dictionaries, then the unsealed tail (FORMAT.md, "Recovery on open").
    func open(onRecoveredRecord: (RecordLocation, LogRecord) throws -> Void) throws {
        try SegmentDirectory.ensure(directory)
        try SegmentDirectory.ensure(segmentsPath)
        try SegmentDirectory.ensure(dictionariesPath)
        dictionaries = try SegmentDictionaries.loadAll(from: dictionariesPath)
        if let current = dictionaries.last {
            compressor = try ZstdCompressor(level: configuration.compressionLevel, dictionary: current)
            training.enabled = false
        }
        let decompressor = try ZstdDecompressor()
        for dictionary in dictionaries { try decompressor.add(dictionary) }

        let sequences = try SegmentDirectory.list(segmentsPath).compactMap(SegmentFormat.sequence(fromFileName:))
            .sorted()
        guard let newest = sequences.last else {
            try startSegment(1)
            return
        }
        // Walk back from the newest file until a sealed one; only the files after it are scanned.
        var tail: [UInt32] = []
        for sequence in sequences.reversed() {
            if try isSealed(sequence) { break }
            tail.insert(sequence, at: 0)
        }
        try removeStaleJournals(keeping: tail)
        guard let last = tail.last else {
            try startSegment(newest + 1)
            return
        }
        for sequence in tail {
            try recoverSegment(sequence, decompressor: decompressor, onRecoveredRecord: onRecoveredRecord)
            recovery.scannedSegments.append(sequence)
            if sequence != last {
                try sealActive()
                recovery.sealedSegments.append(sequence)
            } else {
                // The age of a recovered tail counts from now: record times come from another clock.
                let firstAt: Int64? = activeColumns.count > 0 ? configuration.clock.wallMilliseconds() : nil
                rotation = configuration.rotation(
                    bytes: writtenBytes, records: activeColumns.count, firstAppendAt: firstAt)
                durable.rotation = rotation
            }
        }
        if !recovery.cuts.isEmpty {
            logger.warning(
                "segment store cut a torn or corrupt tail",
                metadata: ["segment.cuts": "\(recovery.cuts.map { "\($0.segment)@\($0.offset)-\($0.bytesCut)" })"])
        }
    }

    /// Deletes the journals of segments that are not in the unsealed tail: a crash between a seal and the journal's
    /// delete leaves one, and the sealed segment's columns hold what it held.
    func removeStaleJournals(keeping tail: [UInt32]) throws {
        for name in try SegmentDirectory.list(segmentsPath) {
            guard let sequence = SegmentJournal.sequence(fromFileName: name), !tail.contains(sequence) else { continue }
            try SegmentDirectory.remove(segmentsPath + "/" + name)
        }
    }

    /// Whether the file's last bytes are a valid footer frame for its format version (reads only those bytes and the
    /// file header).
    func isSealed(_ sequence: UInt32) throws -> Bool {
        let file = try SegmentFile.openForReading(segmentsPath + "/" + SegmentFormat.fileName(sequence))
        let size = try file.size()
        let minimum = UInt64(SegmentFormat.fileHeaderSize + SegmentFormat.footerFrameSize)
        guard size >= minimum else { return false }
        let bytes = try file.read(
            count: SegmentFormat.footerFrameSize, at: size - UInt64(SegmentFormat.footerFrameSize))
        guard let footer = SegmentFooter.parse(frame: bytes),
            let header = try SegmentFormat.parseVersionedFileHeader(
                file.read(count: SegmentFormat.fileHeaderSize, at: 0))
        else { return false }
        return footer.isConsistent(fileSize: size, version: header.version)
    }

    /// Scans one unsealed segment, cuts it after its last good frame and makes it the active segment (columns,
    /// size, open file).
    func recoverSegment(
        _ sequence: UInt32, decompressor: ZstdDecompressor,
        onRecoveredRecord: (RecordLocation, LogRecord) throws -> Void
    ) throws {
        let path = segmentsPath + "/" + SegmentFormat.fileName(sequence)
        let handle = try SegmentFile.openForWriting(path)
        let size = try handle.size()
        let bytes = try handle.read(count: Int(size), at: 0)
        let header = try SegmentFormat.parseVersionedFileHeader(bytes)
        var columns = ColumnBuilder(
            segment: sequence,
            groupRows: configuration.columnGroupRows(version: header?.version ?? configuration.formatVersion))
        guard let header, header.sequence == sequence else {
            // No valid header (crash while creating the file): start it over.
            try handle.truncate(to: 0)
            try handle.write(SegmentFormat.fileHeader(sequence: sequence, version: configuration.formatVersion), at: 0)
            try handle.sync()
            recovery.cuts.append(.init(segment: sequence, offset: 0, bytesCut: size, reason: "invalid file header"))
            adopt(
                handle, sequence: sequence, version: configuration.formatVersion,
                size: UInt64(SegmentFormat.fileHeaderSize), columns: columns)
            if configuration.formatVersion >= 4 {
                try adoptJournal(
                    at: segmentsPath + "/" + SegmentJournal.fileName(sequence), sequence: sequence,
                    keeping: SegmentFormat.fileHeaderSize)
            }
            return
        }

        // Version 4: the records' metadata parts, from the journal; kept up to the frame of the last kept block.
        let journalPath = segmentsPath + "/" + SegmentJournal.fileName(sequence)
        var journal = SegmentJournal.Contents()
        if header.version >= 4, access(journalPath, F_OK) == 0 {
            journal = try SegmentDirectory.readWhole(journalPath).withUnsafeBytes {
                SegmentJournal.contents($0, sequence: sequence)
            }
        }
        var journalKeepEnd = SegmentFormat.fileHeaderSize

        var keepEnd = SegmentFormat.fileHeaderSize
        var reason: String?
        try bytes.withUnsafeBytes { buffer in
            var scanner = FrameScanner(buffer, from: SegmentFormat.fileHeaderSize)
            var sealFramesPending = false
            while let frame = scanner.next() {
                switch FrameType(rawValue: frame.header.type) {
                case .record:
                    let payload = UnsafeRawBufferPointer(rebasing: buffer[frame.payload])
                    let record: LogRecord
                    do {
                        record = try RecordFrame.decode(flags: frame.header.flags, payload: payload) {
                            try decompressor.decompress($0)
                        }
                    } catch let error as SegmentError where error.code == .corrupt {
                        reason = "undecodable record at \(frame.offset)"
                        return
                    }
                    let location = RecordLocation(
                        segment: sequence, offset: UInt64(frame.offset), length: UInt32(frame.header.frameLength))
                    columns.append(record, at: location)
                    recovery.records.append(.init(id: record.id, location: location))
                    try onRecoveredRecord(location, record)
                    keepEnd = frame.end
                    sealFramesPending = false
                case .block:
                    // A version 2 block: all its records or none (a torn block fails its checksum above).
                    let payload = UnsafeRawBufferPointer(rebasing: buffer[frame.payload])
                    var metadata: JournalFrame?
                    if header.version >= 4 {
                        // Version 4: the block's records are whole only with their metadata parts.
                        guard let entry = journal.frame(forBlockAt: UInt64(frame.offset)) else {
                            reason = "block at \(frame.offset) without its metadata in the journal"
                            return
                        }
                        metadata = entry.frame
                        journalKeepEnd = entry.end
                    }
                    let records: [(record: LogRecord, length: Int)]
                    do {
                        let content = try RecordBlock.content(flags: frame.header.flags, payload: payload) {
                            try decompressor.decompress($0)
                        }
                        records = try content.withUnsafeBytes { try RecordBlock.decodeAll($0, metadata: metadata) }
                    } catch let error as SegmentError where error.code == .corrupt {
                        reason = "undecodable block at \(frame.offset)"
                        return
                    }
                    for (slot, (record, length)) in records.enumerated() {
                        let location = RecordLocation(
                            segment: sequence,
                            offset: SegmentFormat.blockLocationOffset(block: UInt64(frame.offset), slot: slot),
                            length: UInt32(length))
                        columns.append(record, at: location)
                        recovery.records.append(.init(id: record.id, location: location))
                        try onRecoveredRecord(location, record)
                    }
                    keepEnd = frame.end
                    sealFramesPending = false
                case .index, .groupedIndex, .columns, .footer:
                    // Part of a seal; kept only if more records follow (which the writer never does).
                    sealFramesPending = true
                case .metadata, nil:
                    keepEnd = frame.end  // a frame type from a later version (or a journal's): kept, skipped
                    sealFramesPending = false
                }
            }
            switch scanner.stop {
            case .torn?: reason = "torn frame at \(scanner.position)"
            case .badChecksum?: reason = "bad checksum at \(scanner.position)"
            case .end?, nil: if sealFramesPending { reason = "unfinished seal" }
            }
        }
        if UInt64(keepEnd) < size {
            try handle.truncate(to: UInt64(keepEnd))
            try handle.sync()
            recovery.cuts.append(
                .init(
                    segment: sequence, offset: UInt64(keepEnd), bytesCut: size - UInt64(keepEnd),
                    reason: reason ?? "trailing bytes"))
        }
        adopt(handle, sequence: sequence, version: header.version, size: UInt64(keepEnd), columns: columns)
        if header.version >= 4 {
            try adoptJournal(at: journalPath, sequence: sequence, keeping: journalKeepEnd)
        }
    }

    /// Version 4: opens the tail segment's journal for appending, cut after the metadata frame of its last kept
    /// block (created with its header when missing or unreadable).
    private func adoptJournal(at path: String, sequence: UInt32, keeping keepEnd: Int) throws {
        let handle = try access(path, F_OK) == 0 ? SegmentFile.openForWriting(path) : SegmentFile.create(path)
        let size = try handle.size()
        let head = try handle.read(count: SegmentFormat.fileHeaderSize, at: 0)
        if head.withUnsafeBytes({ SegmentJournal.hasHeader($0, sequence: sequence) }) {
            if size != UInt64(keepEnd) { try handle.truncate(to: UInt64(keepEnd)) }
        } else {
            try handle.truncate(to: 0)
            try handle.write(SegmentJournal.fileHeader(sequence: sequence), at: 0)
        }
        try handle.sync()
        try SegmentDirectory.sync(segmentsPath)
        journal = handle
        journalBuffer.removeAll(keepingCapacity: true)
        journalBytes = try handle.size()
        durable.journalBytes = journalBytes
    }

    private func adopt(
        _ handle: SegmentFile, sequence: UInt32, version: UInt8, size: UInt64, columns: ColumnBuilder
    ) {
        file = handle
        journal = nil
        journalBuffer.removeAll(keepingCapacity: true)
        activeSegment = sequence
        activeVersion = version
        block.removeAll()
        writtenBytes = size
        unsyncedBytes = false
        activeColumns = columns
        activeSealed = false
        durable.bytes = size
        durable.records = columns.count
    }
}
