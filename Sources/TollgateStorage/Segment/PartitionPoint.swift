extension RandomAccessCollection where Index == Int {
    /// The first index whose element satisfies `isAbove`, `endIndex` when none does, for a predicate that is false
    /// for a prefix of the collection and true for the rest (a binary search).
    func partitionPoint(where isAbove: (Element) -> Bool) -> Int {
        var low = startIndex
        var high = endIndex
        while low < high {
            let mid = low + (high - low) / 2
            if isAbove(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
