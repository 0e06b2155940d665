import Foundation
import JWTKit

/// A token's time claims are input like any other: bounded before anything computes with them.
/// A validly signed token that expires in the year 10^13 must be refused, not trap converting
/// its lifetime to a Duration.
enum TokenTimes {
    /// Clock difference tolerated between the signer and this service.
    static let skew: TimeInterval = 60

    /// Refuses a token issued or valid only in the future, or living longer than `maximumLifetime`.
    static func check(
        exp: ExpirationClaim, iat: IssuedAtClaim?, nbf: NotBeforeClaim?, maximumLifetime: TimeInterval, now: Date = Date()
    ) throws {
        guard exp.value.timeIntervalSince(now) <= maximumLifetime + skew else {
            throw JWTError.claimVerificationFailure(failedClaim: exp, reason: "expires further ahead than such a token can live")
        }
        if let iat, iat.value.timeIntervalSince(now) > skew {
            throw JWTError.claimVerificationFailure(failedClaim: iat, reason: "issued in the future")
        }
        if let nbf, nbf.value.timeIntervalSince(now) > skew {
            throw JWTError.claimVerificationFailure(failedClaim: nbf, reason: "not valid until the future")
        }
    }

    /// How long a verified token may be remembered: until it expires, within [0, `limit`].
    static func remembered(until exp: Date, limit: TimeInterval = 3600, now: Date = Date()) -> Duration {
        let left = exp.timeIntervalSince(now)
        guard left.isFinite, left > 0 else { return .zero }
        return .milliseconds(Int64(min(left, limit) * 1000))
    }
}
