package extension Dictionary {
    /// Removes the value for `key` and, once the dictionary is empty, its storage too.
    ///
    /// For tables that fill only while something is under way (connections being opened,
    /// stanzas waiting in a lane): a dictionary keeps its capacity when emptied, so a burst of
    /// 300 users coming online left each such table holding room for 512 entries for good.
    /// Inlinable, so each table specializes it (unspecialized, it cost a run-time metadata lookup).
    @inlinable @discardableResult
    mutating func removeValueReleasingEmptyStorage(forKey key: Key) -> Value? {
        let value = removeValue(forKey: key)
        if isEmpty { self = Dictionary() }
        return value
    }
}
