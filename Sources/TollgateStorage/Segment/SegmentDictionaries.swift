import Glibc

/// The `dicts/` folder: zstd dictionaries by id, written durably before first use.
enum SegmentDictionaries {
    static func fileName(_ id: UInt32) -> String { "\(id).dict" }

    static func path(_ id: UInt32, in directory: String) -> String { directory + "/" + fileName(id) }

    /// Loads every dictionary in `directory`, deleting unfinished `*.tmp` files. Sorted by id.
    static func loadAll(from directory: String) throws -> [ZstdDictionary] {
        var dictionaries: [ZstdDictionary] = []
        for name in try SegmentDirectory.list(directory) {
            if name.hasSuffix(".tmp") {
                try SegmentDirectory.remove(directory + "/" + name)
                continue
            }
            guard name.hasSuffix(".dict"), let id = UInt32(name.dropLast(5)) else { continue }
            dictionaries.append(try load(id, from: directory))
        }
        return dictionaries.sorted { $0.id < $1.id }
    }

    /// Loads `dicts/<id>.dict` and checks that its header names that id.
    static func load(_ id: UInt32, from directory: String) throws -> ZstdDictionary {
        let path = path(id, in: directory)
        let bytes = try SegmentDirectory.readWhole(path)
        let dictionary: ZstdDictionary
        do {
            dictionary = try ZstdDictionary(bytes: bytes)
        } catch {
            throw SegmentError(.corrupt, "\(path) is not a zstd dictionary", cause: error)
        }
        guard dictionary.id == id else {
            throw SegmentError(.corrupt, "\(path) holds dictionary \(dictionary.id)")
        }
        return dictionary
    }

    /// Writes a dictionary durably: temp file, fsync, rename, fsync of the folder.
    static func save(_ dictionary: ZstdDictionary, in directory: String) throws {
        try SegmentDirectory.writeAtomically(
            dictionary.bytes, to: path(dictionary.id, in: directory), directory: directory)
    }
}
