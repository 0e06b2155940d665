/// Why a Redis call failed, in words an operator can act on.
public enum RedisClientError: Error, Equatable, CustomStringConvertible {
    /// Redis answered with an error reply (`-ERR ...`).
    case server(String)
    case connectFailed(host: String, port: Int, reason: String)
    /// Recent connection attempts failed; calls fail fast until the next retry time.
    case unavailable(retryInMilliseconds: Int)
    case timeout(command: String)
    case connectionClosed
    case protocolViolation(String)
    case invalidURL(String)
    case shutDown

    public var description: String {
        switch self {
        case .server(let message): return "Redis replied with an error: \(message)"
        case .connectFailed(let host, let port, let reason): return "cannot connect to Redis at \(host):\(port): \(reason)"
        case .unavailable(let wait): return "Redis is unavailable (next connection attempt in \(wait) ms)"
        case .timeout(let command): return "Redis did not answer \(command) in time"
        case .connectionClosed: return "the Redis connection closed"
        case .protocolViolation(let detail): return "Redis sent an unexpected reply: \(detail)"
        case .invalidURL(let detail): return "invalid Redis URL: \(detail)"
        case .shutDown: return "the Redis client is shut down"
        }
    }
}
