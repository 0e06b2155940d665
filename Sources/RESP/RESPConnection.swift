import NIOCore
import NIOPosix
import Synchronization

/// One connection to Redis. Commands may be sent from many tasks at once; they are pipelined.
public final class RESPConnection: Sendable {
    let channel: Channel
    let commandTimeout: TimeAmount

    /// Set the moment a timeout gives the connection up, before the close has gone through, so
    /// the pool never hands it out again in between.
    private let abandoned = Atomic<Bool>(false)

    public var isActive: Bool { channel.isActive && !abandoned.load(ordering: .relaxed) }

    init(channel: Channel, commandTimeout: TimeAmount) {
        self.channel = channel
        self.commandTimeout = commandTimeout
    }

    static func connect(
        host: String, port: Int, group: EventLoopGroup, connectTimeout: TimeAmount, commandTimeout: TimeAmount
    ) async throws -> RESPConnection {
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(RESPChannelHandler())
                }
            }
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            return RESPConnection(channel: channel, commandTimeout: commandTimeout)
        } catch {
            throw RedisClientError.connectFailed(host: host, port: port, reason: "\(error)")
        }
    }

    /// Sends the commands in one write and returns their replies in order. Error replies come
    /// back as `.error` values; a timeout closes the connection, since later replies would no
    /// longer match their commands.
    public func send(_ commands: [RESPCommand], timeout: TimeAmount? = nil) async throws -> [RESPValue] {
        guard !commands.isEmpty else { return [] }
        let eventLoop = channel.eventLoop
        let promises = commands.map { _ in eventLoop.makePromise(of: RESPValue.self) }
        let limit = timeout ?? commandTimeout
        let channel = self.channel
        let name = commands[0].name
        let timer = eventLoop.scheduleTask(in: limit) { [self] in
            abandoned.store(true, ordering: .relaxed)
            for promise in promises { promise.fail(RedisClientError.timeout(command: name)) }
            channel.close(promise: nil)
        }
        // A write to a closed channel never reaches the reply handler, so nothing else would fail
        // these promises until the timer.
        let written = eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { _ in
            for promise in promises { promise.fail(RedisClientError.connectionClosed) }
        }
        channel.writeAndFlush(RESPRequest(commands: commands, promises: promises), promise: written)
        defer { timer.cancel() }
        var replies: [RESPValue] = []
        replies.reserveCapacity(promises.count)
        for promise in promises {
            replies.append(try await promise.futureResult.get())
        }
        return replies
    }

    public func send(_ command: RESPCommand, timeout: TimeAmount? = nil) async throws -> RESPValue {
        let reply = try await send([command], timeout: timeout)[0]
        if case .error(let message) = reply { throw RedisClientError.server(message) }
        return reply
    }

    public func close() async {
        try? await channel.close()
    }
}
