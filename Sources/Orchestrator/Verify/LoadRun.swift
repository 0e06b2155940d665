import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The generator: sends a plan's requests from one event loop thread, in callbacks rather than a
/// task per request, so that it costs the machine little beside the server it measures.
///
/// Every stored property is read and written on `loop` only; that is what makes the unchecked
/// Sendable conformance sound.
final class LoadRun: @unchecked Sendable {
    private struct Due {
        var number: Int
        var due: NIODeadline
        /// When the generator's timer got to it: `due` plus the generator's own lag.
        var dispatchedAt: NIODeadline
    }

    private let loop: EventLoop
    private let plan: LoadPlan
    private let tls: NIOSSLContext?
    private let heads: [[HTTPRequestHead]]
    private let timeout: TimeAmount
    private let interval: Int64
    private var start = NIODeadline.now()
    private var measureFrom = NIODeadline.now()
    private var measureUntil = NIODeadline.now()
    private var total = 0
    private var next = 0
    private var backlog = CircularBuffer<Due>()
    private var idle: [LoadConnection] = []
    private var open: [ObjectIdentifier: LoadConnection] = [:]
    private var opening = 0
    private var nextEndpoint = 0
    private var inFlight = 0
    private var result = LoadResult()
    private var done: EventLoopPromise<LoadResult>
    private var finished = false
    private var cpuAtStart = 0.0
    private var cpuAtEnd: Double?
    /// Measured requests by their place in the cycle; summed by scenario at the end.
    private var requestsByPosition: [Int]

    private init(plan: LoadPlan, loop: EventLoop) throws {
        self.plan = plan
        self.loop = loop
        tls = plan.endpoints.contains(where: \.secure) ? try NIOSSLContext(configuration: .makeClientConfiguration()) : nil
        heads = plan.endpoints.map { endpoint in
            plan.cycle.map { request in
                var headers = HTTPHeaders([("Host", endpoint.hostHeader), ("User-Agent", "orchestrate-verify/\(Orchestrate.version)")])
                headers.add(contentsOf: request.headers)
                return HTTPRequestHead(version: .http1_1, method: request.method, uri: request.path, headers: headers)
            }
        }
        timeout = .nanoseconds(Self.nanoseconds(plan.timeout))
        if case .openLoop(let rate) = plan.mode {
            interval = 1_000_000_000 / Int64(max(rate, 1))
        } else {
            interval = 0
        }
        requestsByPosition = Array(repeating: 0, count: plan.cycle.count)
        done = loop.makePromise()
    }

    /// Runs `plan` to its end and returns what was measured.
    static func run(_ plan: LoadPlan) async throws -> LoadResult {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        do {
            let loop = group.next()
            let run = try LoadRun(plan: plan, loop: loop)
            loop.execute { run.begin() }
            let result = try await withTaskCancellationHandler {
                try await run.done.futureResult.get()
            } onCancel: {
                loop.execute { run.cancel() }
            }
            try await group.shutdownGracefully()
            return result
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private func begin() {
        cpuAtStart = Self.threadCPUSeconds()
        start = .now()
        measureFrom = start + .nanoseconds(Self.nanoseconds(plan.warmup))
        measureUntil = measureFrom + .nanoseconds(Self.nanoseconds(plan.duration))
        loop.scheduleTask(deadline: measureUntil) {
            self.cpuAtEnd = Self.threadCPUSeconds()
            self.result.wallSeconds = Double((NIODeadline.now() - self.start).nanoseconds) / 1e9
        }
        let sweep = TimeAmount.nanoseconds(max(timeout.nanoseconds / 10, 10_000_000))
        loop.scheduleRepeatedTask(initialDelay: sweep, delay: sweep) { task in
            guard !self.finished else { return task.cancel() }
            let deadline = NIODeadline.now() - self.timeout
            for connection in self.open.values { connection.timeOut(ifSentBefore: deadline) }
        }
        switch plan.mode {
        case .openLoop:
            total = Int((measureUntil - start).nanoseconds / interval)
            emitDue(scheduledFor: start)
        case .closedLoop(let connections):
            for _ in 0..<connections { connect() }
            loop.scheduleTask(deadline: measureUntil + timeout) { self.finish() }
        }
    }

    // MARK: open loop

    private func dueTime(of number: Int) -> NIODeadline {
        start + .nanoseconds(Int64(number) * interval)
    }

    private func emitDue(scheduledFor deadline: NIODeadline) {
        guard !finished else { return }
        let now = NIODeadline.now()
        if now >= measureFrom, now < measureUntil {
            _ = result.schedulerLateness.record(UInt64(max((now - deadline).nanoseconds / 1000, 0)))
        }
        while next < total, dueTime(of: next) <= now {
            dispatch(Due(number: next, due: dueTime(of: next), dispatchedAt: now))
            next += 1
        }
        guard !finished else { return }
        if next < total {
            let deadline = dueTime(of: next)
            loop.scheduleTask(deadline: deadline) { self.emitDue(scheduledFor: deadline) }
        } else {
            loop.scheduleTask(deadline: measureUntil + timeout) { self.finish() }
        }
    }

    private func dispatch(_ due: Due) {
        if isMeasured(due.due) { result.intended += 1 }
        if let connection = idle.popLast() {
            send(due, on: connection)
        } else {
            backlog.append(due)
            if open.count + opening < plan.maxConnections, backlog.count > opening { connect() }
        }
    }

    // MARK: connections

    private func connect() {
        opening += 1
        let index = nextEndpoint % plan.endpoints.count
        let endpoint = plan.endpoints[index]
        nextEndpoint += 1
        let tls = tls
        let serverName = endpoint.host.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } ? nil : endpoint.host
        ClientBootstrap(group: loop)
            .connectTimeout(timeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    if endpoint.secure, let tls {
                        try channel.pipeline.syncOperations.addHandler(NIOSSLClientHandler(context: tls, serverHostname: serverName))
                    }
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(LoadConnection(endpoint: index, run: self))
                }
            }
            .connect(host: endpoint.host, port: endpoint.port)
            .hop(to: loop)
            .whenComplete { outcome in
                self.opening -= 1
                switch outcome {
                case .success(let channel) where self.finished:
                    channel.close(promise: nil)
                case .success(let channel):
                    guard let connection = try? channel.pipeline.syncOperations.handler(type: LoadConnection.self) else {
                        channel.close(promise: nil)
                        self.connectFailed("connection set-up failed")
                        return
                    }
                    self.open[ObjectIdentifier(connection)] = connection
                    self.becameIdle(connection)
                case .failure(let error):
                    self.connectFailed(LoadConnection.reason(for: error))
                }
            }
    }

    private func connectFailed(_ reason: String) {
        switch plan.mode {
        case .openLoop:
            // The request that asked for this connection fails with it; the next one tries again.
            if let due = backlog.popFirst() { record(failure: reason, number: due.number, due: due.due) }
            if !backlog.isEmpty, open.count + opening < plan.maxConnections { connect() }
            finishIfIdle()
        case .closedLoop:
            if isMeasured(.now()) { result.intended += 1 }
            record(failure: reason, number: 0, due: .now())
            if NIODeadline.now() < measureUntil {
                loop.scheduleTask(in: .milliseconds(100)) { self.connect() }
            } else {
                finishIfIdle()
            }
        }
    }

    private func becameIdle(_ connection: LoadConnection) {
        guard !finished, !connection.closed else { return }
        switch plan.mode {
        case .openLoop:
            if let due = backlog.popFirst() {
                send(due, on: connection)
            } else {
                idle.append(connection)
                finishIfIdle()
            }
        case .closedLoop:
            let now = NIODeadline.now()
            guard now < measureUntil else {
                finishIfIdle()
                return
            }
            if isMeasured(now) { result.intended += 1 }
            send(Due(number: next, due: now, dispatchedAt: now), on: connection)
            next += 1
        }
    }

    private func send(_ due: Due, on connection: LoadConnection) {
        inFlight += 1
        if isMeasured(due.due) {
            result.sent += 1
            result.maxInFlight = max(result.maxInFlight, inFlight)
        }
        let head = heads[connection.endpoint][due.number % plan.cycle.count]
        connection.send(head, number: due.number, due: due.due, dispatchedAt: due.dispatchedAt)
    }

    func connectionClosed(_ connection: LoadConnection) {
        open[ObjectIdentifier(connection)] = nil
        idle.removeAll { $0 === connection }
        guard !finished else { return }
        if case .openLoop = plan.mode, !backlog.isEmpty, open.count + opening < plan.maxConnections {
            connect()
        } else if case .closedLoop = plan.mode, NIODeadline.now() < measureUntil {
            connect()
        }
        finishIfIdle()
    }

    // MARK: answers

    func answered(_ exchange: LoadConnection.Exchange, status: Int, on connection: LoadConnection, reusable: Bool) {
        inFlight -= 1
        let now = NIODeadline.now()
        let position = exchange.number % plan.cycle.count
        if isMeasured(exchange.due) {
            result.answered += 1
            requestsByPosition[position] += 1
            _ = result.latency.record(UInt64(max((now - exchange.due).nanoseconds / 1000, 1)))
            _ = result.latencyFromDispatch.record(UInt64(max((now - exchange.dispatchedAt).nanoseconds / 1000, 1)))
            _ = result.serviceTime.record(UInt64(max((now - exchange.sentAt).nanoseconds / 1000, 1)))
            if status != plan.cycle[position].expectedStatus {
                let request = plan.cycle[position]
                result.fail(request.scenario, "\(request.scenario): status \(status), expected \(request.expectedStatus)")
            }
        }
        if reusable { becameIdle(connection) }
    }

    func failed(_ exchange: LoadConnection.Exchange, reason: String) {
        inFlight -= 1
        record(failure: reason, number: exchange.number, due: exchange.due)
        finishIfIdle()
    }

    private func record(failure reason: String, number: Int, due: NIODeadline) {
        guard isMeasured(due) else { return }
        let position = number % plan.cycle.count
        requestsByPosition[position] += 1
        result.fail(plan.cycle[position].scenario, reason)
    }

    private func isMeasured(_ due: NIODeadline) -> Bool {
        due >= measureFrom && due < measureUntil
    }

    // MARK: end

    private func finishIfIdle() {
        let allSent: Bool
        switch plan.mode {
        case .openLoop: allSent = next >= total && backlog.isEmpty
        case .closedLoop: allSent = NIODeadline.now() >= measureUntil
        }
        if allSent, inFlight == 0, opening == 0 { finish() }
    }

    private func finish() {
        guard !finished else { return }
        finished = true
        // Requests still waiting for a connection when time ran out never left: the server held
        // every connection. They count against it, as k6 counts dropped iterations.
        while let due = backlog.popFirst() {
            record(failure: "not sent: every connection was busy", number: due.number, due: due.due)
        }
        for connection in open.values {
            if let exchange = connection.exchange {
                record(failure: "no answer within the timeout", number: exchange.number, due: exchange.due)
            }
        }
        let connections = Array(open.values)
        open = [:]
        idle = []
        connections.forEach { $0.close() }
        for (position, count) in requestsByPosition.enumerated() {
            result.perScenario[plan.cycle[position].scenario, default: LoadResult.ScenarioCount()].requests += count
        }
        let end = NIODeadline.now()
        result.measuredSeconds = Double(Self.nanoseconds(plan.duration)) / 1e9
        if cpuAtEnd == nil { result.wallSeconds = Double((end - start).nanoseconds) / 1e9 }
        result.cpuSeconds = (cpuAtEnd ?? Self.threadCPUSeconds()) - cpuAtStart
        done.succeed(result)
    }

    /// Ctrl-C: stop sending, close every connection, measure nothing.
    private func cancel() {
        guard !finished else { return }
        finished = true
        let connections = Array(open.values)
        open = [:]
        idle = []
        backlog.removeAll()
        connections.forEach { $0.close() }
        done.fail(CancellationError())
    }

    static func nanoseconds(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
    }

    /// CPU time of the calling thread (the generator's event loop) so far: the generator's own
    /// cost, apart from anything else the process runs.
    static func threadCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}
