import AsyncHTTPClient
import Foundation
import Manifests
import NIOCore
import ProcessSupport

/// Instances of `pet-backend` as processes on this machine, each under its own supervisor and on
/// its own loopback port.
struct LocalFleet: InstanceFleet {
    let environment: String
    let paths: LocalPaths
    let target: LocalTarget
    /// This executable, started again as `orchestrate supervise` for each instance.
    let orchestratePath: String

    func records() throws -> [InstanceRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: paths.instances)) ?? []
        return try names.filter { $0.hasSuffix(".json") && !$0.hasSuffix(".state.json") }.sorted().map {
            try JSONCoding.decode(InstanceRecord.self, fromFile: "\(paths.instances)/\($0)")
        }
    }

    func instances() async throws -> [InstanceStatus] {
        try records().map(status)
    }

    private func status(_ record: InstanceRecord) -> InstanceStatus {
        let state = try? JSONCoding.decode(SupervisorState.self, fromFile: record.stateFile)
        let supervised = supervisorAlive(record)
        let childAlive = childAlive(record, state)
        let current: InstanceStatus.State = !supervised ? .stopped : childAlive ? .running : (state?.starts ?? 0) > 0 ? .crashed : .starting
        return InstanceStatus(
            name: record.name, releaseID: record.releaseID, address: "http://127.0.0.1:\(record.port)", state: current,
            healthy: nil, restarts: max((state?.starts ?? 1) - 1, 0), pid: state?.childPID)
    }

    func start(_ release: ReleaseRecord) async throws -> InstanceStatus {
        try FileManager.default.createDirectory(atPath: paths.instances, withIntermediateDirectories: true)
        let existing = try records()
        let name = "\(environment)-\(try nextNumber())"
        let used = Set(existing.map(\.port))
        guard
            let port = (target.firstInstancePort..<(target.firstInstancePort + 200)).first(where: {
                !used.contains($0) && PortCheck.isFree($0)
            })
        else { throw LocalServiceError("no free port from \(target.firstInstancePort) for a new instance") }
        var environment = release.configuration.variables
        environment["PORT"] = String(port)
        // Instances share this machine's ports and listen on loopback only: each serves its
        // metrics on its own port rather than all fighting over one metrics port.
        environment["METRICS_PORT"] = nil
        environment["HOST"] = "127.0.0.1"
        var record = InstanceRecord(
            name: name, port: port, releaseID: release.id, binary: paths.artifact(release.configuration.artifact.digest),
            environment: environment, secretsFile: paths.secrets, logFile: paths.instanceLog(name),
            stateFile: paths.instanceState(name), supervisorPID: nil, createdAt: Date(), liveness: release.configuration.liveness)
        try JSONCoding.write(record, toFile: paths.instance(name))
        let supervisor = try ProcessLauncher.spawn(
            orchestratePath, arguments: ["supervise", paths.instance(name)], environment: ProcessInfo.processInfo.environment,
            logPath: paths.instanceLog(name), detached: true)
        record.supervisorPID = supervisor
        try JSONCoding.write(record, toFile: paths.instance(name))
        return status(record)
    }

    func stop(_ name: String) async throws {
        guard let record = try records().first(where: { $0.name == name }) else { return }
        let state = try? JSONCoding.decode(SupervisorState.self, fromFile: record.stateFile)
        if let supervisor = record.supervisorPID, supervisorAlive(record) {
            await ProcessLauncher.terminate(supervisor, grace: .seconds(35))
        }
        // Its own child, or one a supervisor killed before instances died with it left behind.
        if let child = state?.childPID, childAlive(record, state) || ProcessLauncher.isAlive(child, running: record.binary) {
            await ProcessLauncher.terminate(child, grace: .seconds(5))
        }
        try? FileManager.default.removeItem(atPath: record.stateFile)
        try FileManager.default.removeItem(atPath: paths.instance(name))
    }

    func adopt(_ name: String, into release: ReleaseRecord) async throws {
        guard var record = try records().first(where: { $0.name == name }) else { return }
        record.releaseID = release.id
        try JSONCoding.write(record, toFile: paths.instance(name))
    }

    func probe(_ name: String, path: String) async -> ProbeResult {
        guard let record = try? records().first(where: { $0.name == name }) else { return .crashLooping("its record is gone") }
        let state = try? JSONCoding.decode(SupervisorState.self, fromFile: record.stateFile)
        let alive = childAlive(record, state)
        // Exited twice, and recently: a process that crashed long ago and runs fine since is not looping.
        let recent = state?.lastExitAt.map { Date().timeIntervalSince($0) < 60 } ?? false
        if let state, state.starts - (alive ? 1 : 0) >= 2, recent || !alive {
            let exit = state.lastExitStatus.map { $0 < 0 ? "killed by signal \(-$0)" : "exited with status \($0)" } ?? "exited"
            return .crashLooping("the process \(exit) and was restarted \(max(state.starts - 1, 0)) time(s)")
        }
        if !supervisorAlive(record) { return .crashLooping("its supervisor is not running") }
        return await HTTPProbe.get("http://127.0.0.1:\(record.port)\(path)")
    }

    func recentLog(of name: String, lines: Int) -> [String] {
        guard let text = try? String(contentsOfFile: paths.instanceLog(name), encoding: .utf8) else { return [] }
        return text.split(separator: "\n", omittingEmptySubsequences: true).suffix(lines).map { String($0.prefix(400)) }
    }

    private func supervisorAlive(_ record: InstanceRecord) -> Bool {
        record.supervisorPID.map { ProcessLauncher.isAlive($0, running: paths.instance(record.name)) } ?? false
    }

    private func childAlive(_ record: InstanceRecord, _ state: SupervisorState?) -> Bool {
        guard let child = state?.childPID, let supervisor = record.supervisorPID else { return false }
        return ProcessLauncher.isAlive(child, childOf: supervisor)
    }

    private func nextNumber() throws -> Int {
        let counter = paths.instances + "/counter"
        let next =
            (Int((try? String(contentsOfFile: counter, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0) + 1
        try AtomicFile.write(Data(String(next).utf8), to: counter)
        return next
    }
}

/// One GET with a short timeout: 2xx is healthy; anything else says what it saw.
enum HTTPProbe {
    static func get(_ url: String, timeout: TimeAmount = .seconds(2)) async -> ProbeResult {
        do {
            let response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: timeout)
            let body = try await response.body.collect(upTo: 64 * 1024)
            if (200..<300).contains(response.status.code) { return .healthy }
            let excerpt = String(buffer: body).prefix(300)
            return .unhealthy("HTTP \(response.status.code) \(excerpt)")
        } catch {
            return .unhealthy("\(error)")
        }
    }
}

extension HTTPProbe {
    /// For the supervisor, whose loop is synchronous.
    static func blockingGet(_ url: String, timeoutSeconds: Int) -> Bool {
        let answer = ProbeAnswer()
        let done = DispatchSemaphore(value: 0)
        Task {
            answer.healthy = await get(url, timeout: .seconds(Int64(timeoutSeconds))) == .healthy
            done.signal()
        }
        done.wait()
        return answer.healthy
    }

    private final class ProbeAnswer: @unchecked Sendable {
        var healthy = false
    }
}

enum PortCheck {
    /// Whether nothing listens on the loopback port (a bind would succeed).
    static func isFree(_ port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { return false }
        defer { close(descriptor) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0 }
        }
    }
}
