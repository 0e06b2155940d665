import Synchronization

/// A bounded in-process map whose entries expire: verified tokens until their `exp`, cached
/// designs for the near cache's lifetime. When full it starts over rather than tracking age:
/// both uses are caches whose misses cost only a recomputation.
final class ExpiringMap<Value: Sendable>: Sendable {
    let capacity: Int
    private let entries = Mutex<[String: (value: Value, expires: ContinuousClock.Instant)]>([:])

    init(capacity: Int = 10_000) {
        self.capacity = capacity
    }

    func get(_ key: String) -> Value? {
        let now = ContinuousClock.now
        return entries.withLock { entries in
            guard let entry = entries[key] else { return nil }
            guard entry.expires > now else {
                entries[key] = nil
                return nil
            }
            return entry.value
        }
    }

    func set(_ key: String, _ value: Value, expires: ContinuousClock.Instant) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = (value, expires)
        }
    }

    func remove(_ key: String) {
        _ = entries.withLock { $0.removeValue(forKey: key) }
    }
}
