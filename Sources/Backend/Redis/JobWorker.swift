import Foundation
import Logging
import RESP
import ServiceLifecycle

/// Runs queued jobs until graceful shutdown: the job in hand is finished and acknowledged before
/// the worker stops; jobs not yet read stay in the stream for the next instance.
struct JobWorker: Service {
    let queue: JobQueue
    let handlers: JobHandlers
    let metrics: ServiceMetrics
    let logger: Logger
    var consumer = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(6))"
    var claimIdle: Duration = .seconds(30)
    var block: Duration = .seconds(1)

    func run() async throws {
        await cancelWhenGracefulShutdown {
            await loop()
        }
    }

    private func loop() async {
        var connection: RESPConnection?
        var lastClaim = ContinuousClock.now - .seconds(3600)
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                if connection == nil || connection?.isActive == false {
                    try await queue.createGroup()
                    connection = try await queue.redis.dedicatedConnection()
                }
                if ContinuousClock.now - lastClaim > claimIdle / 2 {
                    lastClaim = .now
                    for job in try await queue.claimAbandoned(consumer: consumer, minimumIdle: claimIdle, count: 10) {
                        await process(job)
                    }
                }
                guard let connection else { continue }
                for job in try await queue.read(consumer: consumer, count: 10, block: block, on: connection) {
                    await process(job)
                }
                if let stats = try? await queue.stats() { metrics.queueDepth.set(Double(stats.depth)) }
            } catch {
                if Task.isCancelled { break }
                logger.warning("job queue unavailable; retrying", metadata: ["error": "\(error)"])
                await connection?.close()
                connection = nil
                try? await Task.sleep(for: .seconds(1))
            }
        }
        await connection?.close()
    }

    func process(_ job: JobQueue.Job) async {
        do {
            try await handlers.run(kind: job.kind, payload: job.payload)
            try await queue.acknowledge(job)
            metrics.jobs(kind: job.kind, outcome: "done").increment()
        } catch {
            logger.error("job failed", metadata: ["job": .string(job.id), "kind": .string(job.kind), "error": "\(error)"])
            let dead = (try? await queue.recordFailure(job, reason: "\(error)")) ?? false
            metrics.jobs(kind: job.kind, outcome: dead ? "dead" : "failed").increment()
        }
    }
}
