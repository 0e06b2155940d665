import Foundation
import NIOHTTP1

/// How every HTTP API client of orchestrate (the OCI registry, Kubernetes, and Fly next) retries:
/// which answers are worth another try, how many tries, and how long to wait between them.
struct RetryPolicy: Sendable {
    var attempts: Int
    var base: Duration
    var maximum: Duration

    static let standard = RetryPolicy(attempts: 6, base: .milliseconds(200), maximum: .seconds(10))

    /// Throttling and server or gateway trouble; any other answer is the server's word.
    static func isTransient(_ status: HTTPResponseStatus) -> Bool {
        [429, 500, 502, 503, 504].contains(status.code)
    }

    func allowsAnother(after attempt: Int) -> Bool { attempt < attempts }

    /// The server's `Retry-After` when it sent one (seconds or an HTTP date), capped at `maximum`;
    /// otherwise exponential backoff with jitter, so that clients that failed together do not
    /// all come back at the same moment.
    func delay(after attempt: Int, retryAfter: String? = nil) -> Duration {
        if let retryAfter, let asked = Self.duration(retryAfter: retryAfter) { return min(asked, maximum) }
        let ceiling = min(base * (1 << min(max(attempt - 1, 0), 16)), maximum)
        // Equal jitter: half of the wait is fixed, half random.
        return ceiling / 2 + (ceiling / 2) * Double.random(in: 0...1)
    }

    /// `Retry-After: 3` or `Retry-After: Wed, 21 Oct 2026 07:28:00 GMT` (RFC 9110 §10.2.3).
    static func duration(retryAfter value: String, now: Date = Date()) -> Duration? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text) { return seconds >= 0 ? .seconds(seconds) : nil }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .milliseconds(Int64(max(0, date.timeIntervalSince(now)) * 1000))
    }
}
