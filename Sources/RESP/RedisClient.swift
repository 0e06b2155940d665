import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Synchronization

/// A small pool of pipelined connections to one Redis server. When Redis is down, calls fail
/// fast (after a failed connect, the next attempt waits with exponential backoff) so that a
/// service can bypass its cache instead of stalling every request on a connect timeout.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let group: EventLoopGroup
    private let slots: [NIOLockedValueBox<Slot>]
    private let nextSlot = Atomic<Int>(0)
    private let isShutDown = Atomic<Bool>(false)

    private enum Slot {
        case empty(failures: Int, retryAt: NIODeadline)
        case connecting(Task<RESPConnection, Error>)
        case ready(RESPConnection)
    }

    public init(configuration: RedisConfiguration, group: EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.group = group
        self.slots = (0..<configuration.poolSize).map { _ in NIOLockedValueBox(Slot.empty(failures: 0, retryAt: .uptimeNanoseconds(0))) }
    }

    /// Sends one command; an error reply is thrown as `RedisClientError.server`.
    @discardableResult
    public func send(_ command: RESPCommand, timeout: TimeAmount? = nil) async throws -> RESPValue {
        try await connection().send(command, timeout: timeout)
    }

    /// Sends the commands in one round trip; error replies come back as `.error` values.
    public func pipeline(_ commands: [RESPCommand]) async throws -> [RESPValue] {
        try await connection().send(commands)
    }

    /// A connection of its own, for blocking commands such as `XREADGROUP ... BLOCK` that would
    /// hold up every command pipelined behind them. The caller closes it.
    public func dedicatedConnection() async throws -> RESPConnection {
        guard !isShutDown.load(ordering: .relaxed) else { throw RedisClientError.shutDown }
        return try await open()
    }

    public func shutdown() async {
        isShutDown.store(true, ordering: .relaxed)
        for slot in slots {
            let state = slot.withLockedValue { state -> Slot in
                defer { state = .empty(failures: 0, retryAt: .distantFuture) }
                return state
            }
            switch state {
            case .ready(let connection): await connection.close()
            case .connecting(let task):
                if let connection = try? await task.value { await connection.close() }
            case .empty: break
            }
        }
    }

    private func connection() async throws -> RESPConnection {
        guard !isShutDown.load(ordering: .relaxed) else { throw RedisClientError.shutDown }
        let index = nextSlot.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count
        let slot = slots[index]
        enum Next {
            case use(RESPConnection)
            case wait(Task<RESPConnection, Error>)
            case failFast(Int)
        }
        let next = slot.withLockedValue { state -> Next in
            switch state {
            case .ready(let connection) where connection.isActive:
                return .use(connection)
            case .connecting(let task):
                return .wait(task)
            case .empty(_, let retryAt) where retryAt > .now():
                return .failFast(Int((retryAt - .now()).nanoseconds / 1_000_000))
            case .ready, .empty:
                let failures: Int
                if case .empty(let count, _) = state { failures = count } else { failures = 0 }
                let task = Task { try await self.open() }
                state = .connecting(task)
                Task { await self.settle(slot, task: task, previousFailures: failures) }
                return .wait(task)
            }
        }
        switch next {
        case .use(let connection): return connection
        case .wait(let task): return try await task.value
        case .failFast(let wait): throw RedisClientError.unavailable(retryInMilliseconds: wait)
        }
    }

    /// Records the outcome of a connection attempt in its slot.
    private func settle(_ slot: NIOLockedValueBox<Slot>, task: Task<RESPConnection, Error>, previousFailures: Int) async {
        let result = await task.result
        slot.withLockedValue { state in
            switch result {
            case .success(let connection):
                state = .ready(connection)
            case .failure:
                let failures = previousFailures + 1
                let backoff = min(configuration.maximumBackoff.nanoseconds, Int64(50_000_000) << min(failures, 10))
                state = .empty(failures: failures, retryAt: .now() + .nanoseconds(backoff))
            }
        }
    }

    private func open() async throws -> RESPConnection {
        let connection = try await RESPConnection.connect(
            host: configuration.host, port: configuration.port, group: group,
            connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
        do {
            var setup: [RESPCommand] = []
            if let password = configuration.password {
                setup.append(configuration.username.map { RESPCommand("AUTH", $0, password) } ?? RESPCommand("AUTH", password))
            }
            if configuration.database != 0 {
                setup.append(RESPCommand("SELECT", configuration.database))
            }
            for reply in try await connection.send(setup) {
                if case .error(let message) = reply { throw RedisClientError.server(message) }
            }
            return connection
        } catch {
            await connection.close()
            throw error
        }
    }
}
