import NIOCore
import Testing

@testable import Backend

/// The per-instance copy in front of Redis: entries live for their lifetime and no longer, and an
/// invalidation removes them at once.
@Suite struct NearCacheTests {
    @Test func entriesExpireAndInvalidationRemovesThem() async throws {
        let cache = NearCache(lifetime: .milliseconds(150))
        cache.set("design:a", ByteBuffer(string: "one"))
        #expect(cache.get("design:a") == ByteBuffer(string: "one"))
        #expect(cache.get("design:b") == nil)
        cache.remove("design:a")
        #expect(cache.get("design:a") == nil)
        cache.set("design:a", ByteBuffer(string: "two"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(cache.get("design:a") == nil, "an entry outlived its lifetime")
    }

    @Test func theMapStaysBounded() {
        let cache = NearCache(lifetime: .seconds(60))
        for index in 0...(NearCache.capacity + 10) {
            cache.set("key\(index)", ByteBuffer(string: "x"))
        }
        #expect(cache.get("key\(NearCache.capacity + 10)") != nil)
        #expect(cache.get("key0") == nil)
    }
}
