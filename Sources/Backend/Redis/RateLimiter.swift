import Crypto
import Foundation
import RESP

/// GCRA (the generic cell rate algorithm) in one Lua script, on Redis's clock so that every
/// instance agrees. Each key allows `limit` requests per `period` with bursts up to `limit`.
struct RateLimiter: Sendable {
    struct Decision: Sendable, Equatable {
        var allowed: Bool
        var limit: Int
        var remaining: Int
        /// Seconds until a request would be allowed again (0 when allowed).
        var retryAfter: Int
        /// Seconds until the limit is fully replenished.
        var reset: Int
    }

    static let script = """
        local now_parts = redis.call('TIME')
        local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
        local interval = tonumber(ARGV[1])
        local limit = tonumber(ARGV[2])
        local tolerance = interval * limit
        local worst = {1, limit, 0, 0}
        local updates = {}
        for i, key in ipairs(KEYS) do
            local tat = tonumber(redis.call('GET', key) or now)
            if tat < now then tat = now end
            local new_tat = tat + interval
            local allow_at = new_tat - tolerance
            if allow_at > now then
                return {0, 0, math.ceil((allow_at - now) / 1000), math.ceil((tat - now) / 1000)}
            end
            updates[i] = new_tat
            local remaining = math.floor((now - allow_at) / interval)
            if remaining < worst[2] then worst = {1, remaining, 0, math.ceil((new_tat - now) / 1000)} end
        end
        for i, key in ipairs(KEYS) do
            redis.call('SET', key, updates[i], 'PX', math.ceil(updates[i] - now))
        end
        return worst
        """
    static let scriptSHA = Insecure.sha1Hex(script)

    let redis: RedisClient
    let prefix: String
    let limit: Int
    let period: Duration

    /// Checks and counts one request against every key (all must allow it).
    func check(_ keys: [String]) async throws -> Decision {
        let intervalMilliseconds = max(1, Int(period.components.seconds * 1000) / limit)
        let arguments: [any RESPArgument] =
            [Self.scriptSHA, keys.count] + keys.map { "\(prefix)ratelimit:\($0)" } + [intervalMilliseconds, limit]
        var reply: RESPValue
        do {
            reply = try await redis.send(RESPCommand("EVALSHA", arguments))
        } catch RedisClientError.server(let message) where message.hasPrefix("NOSCRIPT") {
            reply = try await redis.send(RESPCommand("EVAL", [Self.script] + Array(arguments.dropFirst())))
        }
        guard let values = reply.array?.compactMap(\.int), values.count == 4 else {
            throw RedisClientError.protocolViolation("the rate-limit script returned \(reply)")
        }
        return Decision(allowed: values[0] == 1, limit: limit, remaining: values[1], retryAfter: values[2], reset: values[3])
    }
}
