import ArgumentParser
import Dispatch
import Foundation
import ProcessSupport

/// `orchestrate supervise` (hidden): keeps one local instance running, restarting it with
/// exponential backoff when it exits, until it is sent SIGTERM, which it passes on to the
/// instance before exiting. Apply starts one per instance in a session of its own.
struct SupervisorCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "supervise", abstract: "Run one local instance and restart it when it exits (used by apply).",
        shouldDisplay: false)

    @Argument(help: "The instance record (instances/NAME.json).")
    var instanceFile: String

    func run() throws {
        let record = try JSONCoding.decode(InstanceRecord.self, fromFile: instanceFile)
        let supervisor = Supervisor(record: record)
        supervisor.handleTermination()
        supervisor.loop()
    }
}

private final class Supervisor: @unchecked Sendable {
    private let record: InstanceRecord
    private let lock = NSLock()
    private var stopping = false
    private var child: pid_t = 0
    private var state = SupervisorState(starts: 0)
    private var signalSources: [DispatchSourceSignal] = []
    private let wake = DispatchSemaphore(value: 0)

    init(record: InstanceRecord) {
        self.record = record
    }

    func handleTermination() {
        for signalNumber in [SIGTERM, SIGINT] {
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler { [self] in
                let running = lock.withLock {
                    stopping = true
                    return child
                }
                if running > 0 { kill(running, SIGTERM) }
                wake.signal()
            }
            source.resume()
            signalSources.append(source)
        }
    }

    func loop() {
        var failures = 0
        while !lock.withLock({ stopping }) {
            let started = Date()
            guard let pid = try? startChild() else {
                failures += 1
                wait(seconds: backoff(failures))
                continue
            }
            let stopNow = lock.withLock {
                child = pid
                return stopping
            }
            if stopNow { kill(pid, SIGTERM) }
            state.childPID = pid
            state.starts += 1
            state.lastStartAt = started
            save()
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            lock.withLock { child = 0 }
            state.childPID = nil
            state.lastExitStatus = ProcessLauncher.decode(status)
            state.lastExitAt = Date()
            save()
            // A run that lasted a minute was not a crash loop: start the backoff over.
            failures = Date().timeIntervalSince(started) > 60 ? 1 : failures + 1
            if lock.withLock({ stopping }) { break }
            wait(seconds: backoff(failures))
        }
        exit(0)
    }

    private func backoff(_ failures: Int) -> Double {
        min(pow(2, Double(failures - 1)), 30)
    }

    private func wait(seconds: Double) {
        _ = wake.wait(timeout: .now() + seconds)
    }

    private func startChild() throws -> pid_t {
        var environment = record.environment
        let secrets = (try? LocalSecrets.load(record.secretsFile))?.values ?? [:]
        environment.merge(secrets) { _, secret in secret }
        environment["PATH"] = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        // Through setpriv, which asks the kernel to send the instance SIGTERM when this process
        // dies (kill -9 included) and then execs it: an instance never outlives its supervisor,
        // keeping its port while `status` calls it stopped. This is the main thread, which lives
        // as long as the process; the signal follows the thread that started the child.
        if FileManager.default.isExecutableFile(atPath: Self.setpriv) {
            return try ProcessLauncher.spawn(
                Self.setpriv, arguments: ["--pdeathsig", "TERM", "--", record.binary, "serve"], environment: environment,
                logPath: record.logFile)
        }
        return try ProcessLauncher.spawn(record.binary, arguments: ["serve"], environment: environment, logPath: record.logFile)
    }

    private static let setpriv = "/usr/bin/setpriv"

    private func save() {
        try? JSONCoding.write(state, toFile: record.stateFile)
    }
}
