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
        supervisor.watchLiveness()
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
    private let liveness = LivenessWatch()
    private var livenessTimer: DispatchSourceTimer?
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
                if running > 0 {
                    kill(running, SIGTERM)
                    kill(running, SIGCONT)
                }
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
            liveness.started(pid)
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

    /// Probes the instance as the kubelet would and restarts it (SIGTERM, then SIGKILL after 5 s)
    /// once it failed the check so many times in a row: a hung process is alive to waitpid but
    /// serves nobody.
    func watchLiveness() {
        guard let check = record.liveness else { return }
        let timer = DispatchSource.makeTimerSource(queue: .global())
        let period = DispatchTimeInterval.seconds(check.periodSeconds)
        timer.schedule(deadline: .now() + period, repeating: period)
        let url = "http://127.0.0.1:\(record.port)\(check.path)"
        timer.setEventHandler { [self] in
            guard let pid = liveness.due(after: check.initialDelaySeconds) else { return }
            let answered = HTTPProbe.blockingGet(url, timeoutSeconds: check.timeoutSeconds)
            guard liveness.record(answered, pid: pid, threshold: check.failureThreshold) else { return }
            FileHandle.standardError.write(
                Data("supervisor: \(check.path) failed \(check.failureThreshold) time(s) in a row; restarting pid \(pid)\n".utf8))
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)
            DispatchQueue.global().asyncAfter(deadline: .now() + 5) { [self] in
                if lock.withLock({ child }) == pid { kill(pid, SIGKILL) }
            }
        }
        timer.resume()
        livenessTimer = timer
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

/// The liveness count of the current child: reset at each start, probed only after the delay.
private final class LivenessWatch: @unchecked Sendable {
    private let lock = NSLock()
    private var pid: pid_t = 0
    private var startedAt = Date.distantFuture
    private var failures = 0

    func started(_ pid: pid_t) {
        lock.withLock {
            self.pid = pid
            startedAt = Date()
            failures = 0
        }
    }

    /// The child to probe now, if any is past its initial delay.
    func due(after initialDelaySeconds: Int) -> pid_t? {
        lock.withLock { pid > 0 && Date().timeIntervalSince(startedAt) >= Double(initialDelaySeconds) ? pid : nil }
    }

    /// Whether this failure was the last one allowed.
    func record(_ answered: Bool, pid: pid_t, threshold: Int) -> Bool {
        lock.withLock {
            guard pid == self.pid else { return false }
            failures = answered ? 0 : failures + 1
            guard failures >= threshold else { return false }
            failures = 0
            startedAt = Date.distantFuture
            return true
        }
    }
}
