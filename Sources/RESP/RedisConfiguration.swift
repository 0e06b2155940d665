import NIOCore

/// Where Redis is and how patient to be with it.
public struct RedisConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var username: String?
    public var password: String?
    public var database: Int
    /// Connections commands are spread over; each pipelines many commands.
    public var poolSize: Int
    public var connectTimeout: TimeAmount
    public var commandTimeout: TimeAmount
    /// The longest wait between connection attempts while Redis is down.
    public var maximumBackoff: TimeAmount

    public init(
        host: String = "127.0.0.1", port: Int = 6379, username: String? = nil, password: String? = nil, database: Int = 0,
        poolSize: Int = 4, connectTimeout: TimeAmount = .seconds(2), commandTimeout: TimeAmount = .seconds(2),
        maximumBackoff: TimeAmount = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.database = database
        self.poolSize = max(1, poolSize)
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.maximumBackoff = maximumBackoff
    }

    /// Reads `redis://[[user]:password@]host[:port][/db]`; the error never repeats the password.
    public init(url: String) throws(RedisClientError) {
        self.init()
        guard url.hasPrefix("redis://") else {
            throw .invalidURL("it must start with redis:// (rediss:// with TLS is not supported)")
        }
        var rest = Substring(url.dropFirst("redis://".count))
        if let at = rest.lastIndex(of: "@") {
            let credentials = rest[..<at]
            rest = rest[rest.index(after: at)...]
            if let colon = credentials.firstIndex(of: ":") {
                let user = credentials[..<colon]
                username = user.isEmpty ? nil : String(user).removingPercentEncodingIfPossible
                password = String(credentials[credentials.index(after: colon)...]).removingPercentEncodingIfPossible
            } else {
                password = String(credentials).removingPercentEncodingIfPossible
            }
        }
        var hostPort = rest
        if let slash = rest.firstIndex(of: "/") {
            hostPort = rest[..<slash]
            let databaseText = rest[rest.index(after: slash)...]
            if !databaseText.isEmpty {
                guard let number = Int(databaseText), number >= 0 else { throw .invalidURL("the database number must be a whole number") }
                database = number
            }
        }
        if let colon = hostPort.lastIndex(of: ":"), !hostPort.hasSuffix("]") {
            guard let number = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(number) else {
                throw .invalidURL("the port must be a number from 1 to 65535")
            }
            port = number
            hostPort = hostPort[..<colon]
        }
        let trimmed = hostPort.trimmingPrefix("[")
        host = String(trimmed.hasSuffix("]") ? trimmed.dropLast() : trimmed)
        guard !host.isEmpty else { throw .invalidURL("the host is missing") }
    }
}

extension String {
    fileprivate var removingPercentEncodingIfPossible: String {
        guard contains("%") else { return self }
        var bytes: [UInt8] = []
        var index = utf8.startIndex
        while index < utf8.endIndex {
            let byte = utf8[index]
            if byte == UInt8(ascii: "%"), let high = utf8.index(index, offsetBy: 1, limitedBy: utf8.endIndex),
                let low = utf8.index(index, offsetBy: 2, limitedBy: utf8.endIndex), low < utf8.endIndex,
                let value = UInt8(String(decoding: [utf8[high], utf8[low]], as: UTF8.self), radix: 16)
            {
                bytes.append(value)
                index = utf8.index(index, offsetBy: 3)
            } else {
                bytes.append(byte)
                index = utf8.index(after: index)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
