import FlyFake
import FlyMachinesAPI
import Foundation
import Testing

/// Fly deploys that meet an unreliable API or an operator's kill -9, and still converge.
@Suite(.serialized) struct FlyResilienceTests {
    typealias Harness = FlyHarness
    static func image(_ letter: Character) -> String { Harness.image(letter) }

    static let faults: [FakeFlyFaults.Fault] = [.tooManyRequests, .internalError, .badGateway, .unavailable, .noAnswer, .answerLost]

    /// One call in five fails (or is done and its answer lost): every apply converges, with
    /// exactly the machines the spec asks for.
    @Test(arguments: faults)
    func everyApplyConvergesWithAFifthOfTheCallsFailing(fault: FakeFlyFaults.Fault) async throws {
        let fly = try await Harness("faults-\(fault)")
        fly.server.faults.failAtRandom(fault, share: 0.2)
        for (letter, release) in [("a", "v1"), ("b", "v2")] as [(Character, String)] {
            let apply = try await fly.orchestrate(["apply", "--image", Self.image(letter), "--request-timeout", "5"])
            #expect(
                apply.status == 0,
                "\(fault): \(apply.stdout)\(apply.stderr) calls: \(fly.fly.calls.map(\.operation).prefix(8)) limited: \(fly.fly.rateLimited)"
            )
            #expect(apply.stdout.contains("\(release) is live"), "\(apply.stdout)")
        }
        fly.server.faults.failAtRandom(fault, share: 0)
        let machines = fly.serving
        #expect(machines.count == 2, "\(fault): \(machines.map { "\($0.id ?? "") \($0.config?.image ?? "")" })")
        #expect(machines.allSatisfy { $0.config?.image == Self.image("b") })
        #expect(fly.server.faults.injected.load(ordering: .relaxed) > 0)
        let plan = try await fly.orchestrate(["plan", "--image", Self.image("b"), "--detailed-exitcode"])
        #expect(plan.status == 0, "\(plan.stdout)\(plan.stderr)")
    }

    /// kill -9 in the middle of a rollout: the next apply waits for the dead run's lease to
    /// expire, closes its release as interrupted and converges, with no orphan machine.
    @Test func aRunKilledMidRolloutIsFinishedByTheNextApply() async throws {
        let fly = try await Harness("killed", deploy: "maxSurge: 0\n  maxUnavailable: 1")
        fly.fly.wrapLeaseAnswers()
        #expect(try await fly.orchestrate(["apply", "--image", Self.image("a")]).status == 0)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CommandRunner.executable)
        process.arguments = [
            "apply", Harness.environment, "--image", Self.image("b"), "--target", "fly", "--environments", fly.folder + "/environments",
        ]
        process.environment = ProcessInfo.processInfo.environment.merging(["FLY_API_HOSTNAME": fly.server.url, "FLY_API_TOKEN": "t"]) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // Killed once the first machine has been updated, before the second.
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline, !fly.fly.calls.contains(where: { $0.operation == "Machines_update" }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(fly.serving.contains { $0.config?.image == Self.image("a") }, "killed before the rollout finished")

        let next = try await fly.orchestrate(["apply", "--image", Self.image("b")])
        #expect(next.status == 0, "\(next.stdout)\(next.stderr)")
        let machines = fly.serving
        #expect(machines.count == 2, "no orphans: \(machines.map { $0.id ?? "" })")
        #expect(machines.allSatisfy { $0.config?.image == Self.image("b") })
        let releases = try await fly.orchestrate(["releases"])
        #expect(releases.stdout.contains("interrupted"), "\(releases.stdout)")
    }
}
