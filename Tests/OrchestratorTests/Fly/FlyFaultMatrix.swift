import FlyFake
import FlyMachinesAPI
import Foundation
import Testing

@testable import Orchestrator

/// Fly's rows of `scripts/fault-matrix` (see FaultMatrix): against the fake Fly, RUNS image
/// changes per fault kind with FAULT_RATE of the calls failing, each followed by a clean apply
/// that must leave the new image on exactly the spec's machines; and KILLS applies killed at a
/// random moment, each followed by one that must converge with no machine left over.
@Suite(.enabled(if: ProcessInfo.processInfo.environment["ORCHESTRATE_FAULTS"] != nil))
struct FlyFaultMatrix {
    static let deploy = "maxSurge: 0\n  maxUnavailable: 1"

    @Test(arguments: [
        FakeFlyFaults.Fault.tooManyRequests, .internalError, .badGateway, .unavailable, .noAnswer, .reset, .answerLost,
    ])
    func flyApplyUnderFaults(fault: FakeFlyFaults.Fault) async throws {
        guard FaultMatrix.selected(fault) else { return }
        let fly = try await FlyHarness("matrix-\(fault)", deploy: Self.deploy)
        #expect(try await fly.orchestrate(["apply", "--image", FlyHarness.image("a")]).status == 0)
        let row = "fly \(fault)"
        var exits: [Int32: Int] = [:]
        var converged = 0
        var durations: [Duration] = []
        for run in 0..<FaultMatrix.runs {
            let image = FlyHarness.image(run % 2 == 0 ? "b" : "a")
            fly.server.faults.failAtRandom(fault, share: FaultMatrix.rate)
            let started = ContinuousClock.now
            let faulty = try await fly.orchestrate(["apply", "--image", image, "--request-timeout", "2"])
            durations.append(ContinuousClock.now - started)
            fly.server.faults.failAtRandom(fault, share: 0)
            exits[faulty.status, default: 0] += 1
            if faulty.status != 0 {
                print("fault: \(row) run \(run): the faulty apply exited \(faulty.status): \(faulty.stderr.suffix(400))")
            }
            let next = try await fly.orchestrate(["apply", "--image", image])
            let leftOver = Self.machinesBeyondTheSpec(fly, image: image)
            if next.status == 0, leftOver.isEmpty {
                converged += 1
            } else {
                print(
                    "fault: \(row) run \(run): the next apply exited \(next.status), machines amiss \(leftOver): \(next.stderr.suffix(600))"
                )
            }
            FaultMatrix.progress(row, run, converged)
        }
        let rollback = try await FaultMatrix.timedRollback { try await fly.orchestrate(["rollback"]) }
        print(
            "fault: fly, \(fault) on \(Int(FaultMatrix.rate * 100)) % of calls: converged \(converged)/\(FaultMatrix.runs); "
                + "the faulty apply exited \(FaultMatrix.describe(exits)) in a median \(Figures.seconds(Figures.median(durations))) s; "
                + "\(fly.server.faults.injected.load(ordering: .relaxed)) faults injected; rollback to a working release \(rollback)")
    }

    /// `kill -9` of `orchestrate apply` at a random moment: of the first apply of an app with no
    /// machines on even runs, of an image change on odd ones.
    @Test func flyApplyKilledAtRandomPoints() async throws {
        guard FaultMatrix.kills > 0 else { return }
        let steady = try await FlyHarness("matrix-kill", deploy: Self.deploy)
        #expect(try await steady.orchestrate(["apply", "--image", FlyHarness.image("a")]).status == 0)
        var tally = KillTally()
        for run in 0..<FaultMatrix.kills {
            let first = run % 2 == 0
            let fly = first ? try await FlyHarness("matrix-first", deploy: Self.deploy) : steady
            let image = FlyHarness.image(first || run % 4 == 3 ? "a" : "b")
            let delay = Int.random(in: 0..<(first ? 8_000 : 6_000))
            let killed = try await CommandRunner.runKilled(
                fly.arguments(["apply", "--image", image]), in: fly.folder, environment: fly.environment(), after: .milliseconds(delay))
            let next = try await fly.orchestrate(["apply", "--image", image])
            let leftOver = Self.machinesBeyondTheSpec(fly, image: image)
            let ok = next.status == 0 && leftOver.isEmpty
            tally.count(killed: killed, converged: ok, orphans: leftOver.count)
            if !ok {
                print(
                    "fault: fly killed run \(run) after \(delay) ms: next apply \(next.status), machines amiss \(leftOver): \(next.stderr.suffix(400))"
                )
            }
            FaultMatrix.progress("fly kill -9", run, tally.converged)
        }
        let rollback = try await FaultMatrix.timedRollback { try await steady.orchestrate(["rollback"]) }
        print("fault: fly, \(tally.describe(FaultMatrix.kills, things: "machines")); rollback to a working release \(rollback)")
    }

    /// Serving machines missing, extra, stopped or on another image, plus any machine that is
    /// neither serving nor the one backup schedule nor the release ledger (a one-off left behind,
    /// a second schedule).
    static func machinesBeyondTheSpec(_ fly: FlyHarness, image: String) -> [String] {
        let serving = fly.serving
        var amiss = serving.count == 2 ? [] : ["\(serving.count) serving machines, not 2"]
        amiss += serving.filter { $0.config?.image != image || $0.state != "started" }.map(Self.describe)
        let servingIDs = Set(serving.compactMap(\.id))
        let others = fly.fly.allMachines.filter {
            $0.state != "destroyed" && !servingIDs.contains($0.id ?? "") && $0.name != FlyLedger.machineName
        }
        let schedules = others.filter { $0.name == FlyMachineConfig.scheduledBackupName }
        amiss += others.filter { $0.name != FlyMachineConfig.scheduledBackupName }.map(Self.describe)
        amiss += schedules.dropFirst().map(Self.describe)
        return amiss
    }

    static func describe(_ machine: Components.Schemas.Machine) -> String {
        "\(machine.id ?? "?") \(machine.name ?? "?") \(machine.state ?? "?") \(machine.config?.image ?? "?")"
    }
}
