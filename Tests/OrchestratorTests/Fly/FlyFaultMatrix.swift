import FlyFake
import Foundation
import Testing

/// Fly's rows of `scripts/fault-matrix` (see FaultMatrix): against the fake Fly, RUNS image
/// changes per fault kind with FAULT_RATE of the calls failing, each followed by a clean apply
/// that must leave the new image on exactly the spec's machines.
@Suite(.serialized, .enabled(if: ProcessInfo.processInfo.environment["ORCHESTRATE_FAULTS"] != nil))
struct FlyFaultMatrix {
    @Test(arguments: [FakeFlyFaults.Fault.tooManyRequests, .internalError, .badGateway, .unavailable, .noAnswer, .answerLost])
    func flyApplyUnderFaults(fault: FakeFlyFaults.Fault) async throws {
        let fly = try await FlyHarness("matrix-\(fault)", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        #expect(try await fly.orchestrate(["apply", "--image", FlyHarness.image("a")]).status == 0)
        var exits: [Int32: Int] = [:]
        var converged = 0
        var durations: [Duration] = []
        for run in 0..<FaultMatrix.runs {
            let image = FlyHarness.image(run % 2 == 0 ? "b" : "a")
            fly.server.faults.failAtRandom(fault, share: FaultMatrix.rate)
            let started = ContinuousClock.now
            let faulty = try await fly.orchestrate(["apply", "--image", image, "--request-timeout", "3"])
            durations.append(ContinuousClock.now - started)
            fly.server.faults.failAtRandom(fault, share: 0)
            exits[faulty.status, default: 0] += 1
            if faulty.status != 0 {
                print("fault: fly \(fault) run \(run): the faulty apply exited \(faulty.status): \(faulty.stderr.suffix(400))")
            }
            let next = try await fly.orchestrate(["apply", "--image", image])
            let machines = fly.serving
            if next.status == 0, machines.count == 2, machines.allSatisfy({ $0.config?.image == image && $0.state == "started" }) {
                converged += 1
            } else {
                print(
                    "fault: fly \(fault) run \(run): the next apply exited \(next.status), machines \(machines.count): \(next.stderr.suffix(600))"
                )
            }
        }
        let started = ContinuousClock.now
        let rollback = try await fly.orchestrate(["rollback"])
        let rollbackTime = rollback.status == 0 ? "\(Figures.seconds(ContinuousClock.now - started)) s" : "failed (exit \(rollback.status))"
        print(
            "fault: fly, \(fault) on \(Int(FaultMatrix.rate * 100)) % of calls: converged \(converged)/\(FaultMatrix.runs); "
                + "the faulty apply exited \(FaultMatrix.describe(exits)) in a median \(Figures.seconds(Figures.median(durations))) s; "
                + "\(fly.server.faults.injected.load(ordering: .relaxed)) faults injected; rollback to a working release \(rollbackTime)")
    }
}
