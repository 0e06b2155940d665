import Foundation
import NIOHTTP1
import Testing

@testable import Orchestrator

@Suite struct RetryPolicyTests {
    let policy = RetryPolicy(attempts: 4, base: .milliseconds(200), maximum: .seconds(2))

    @Test func throttlingAndServerTroubleAreRetriedOtherAnswersAreNot() {
        for code in [429, 500, 502, 503, 504] { #expect(RetryPolicy.isTransient(HTTPResponseStatus(statusCode: code))) }
        for code in [200, 400, 401, 403, 404, 409, 422, 501] { #expect(!RetryPolicy.isTransient(HTTPResponseStatus(statusCode: code))) }
        #expect(policy.allowsAnother(after: 3))
        #expect(!policy.allowsAnother(after: 4))
    }

    @Test func waitsGrowWithJitterUpToTheCap() {
        for attempt in 1...8 {
            let ceiling = min(Duration.milliseconds(200) * (1 << (attempt - 1)), .seconds(2))
            let waits = (0..<50).map { _ in policy.delay(after: attempt) }
            #expect(waits.allSatisfy { $0 >= ceiling / 2 && $0 <= ceiling }, "attempt \(attempt): \(waits)")
            // Jittered: fifty waits are not all the same.
            #expect(Set(waits).count > 1)
        }
    }

    @Test func retryAfterIsHonouredInSecondsOrAsADateAndCapped() {
        #expect(policy.delay(after: 1, retryAfter: "1") == .seconds(1))
        #expect(policy.delay(after: 1, retryAfter: "120") == .seconds(2))
        let now = Date(timeIntervalSince1970: 1_790_000_000)
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        let inThree = formatter.string(from: now.addingTimeInterval(3))
        #expect(RetryPolicy.duration(retryAfter: inThree, now: now) == .seconds(3))
        #expect(RetryPolicy.duration(retryAfter: "soon") == nil)
        // An unreadable Retry-After falls back to the backoff.
        let fallback = policy.delay(after: 1, retryAfter: "soon")
        #expect(fallback >= .milliseconds(100) && fallback <= .milliseconds(200))
    }
}
