import Foundation
import ProcessSupport

/// The environment's own Redis on 127.0.0.1 with the rendered redis.conf (memory, eviction,
/// persistence from the spec), a password, and its data under the state folder.
struct LocalRedis: Sendable {
    let paths: LocalPaths
    let port: Int

    var detail: String { "Redis on 127.0.0.1:\(port), data in \(paths.redis)" }

    static func url(port: Int, password: String) -> String {
        "redis://:\(password)@127.0.0.1:\(port)/0"
    }

    var runningPID: pid_t? {
        guard let text = try? String(contentsOfFile: paths.redisPidFile, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)),
            ProcessLauncher.isAlive(pid, running: "redis-server")
        else { return nil }
        return pid
    }

    func ensure(renderedConfig: String, password: String, progress: any ProgressReporter) async throws {
        guard runningPID == nil else { return }
        guard let server = ProcessLauncher.executable("redis-server", searching: ["/usr/sbin", "/usr/local/bin"]) else {
            throw LocalServiceError("redis-server is not installed; install it with `apt-get install redis-server`")
        }
        progress.step("starting \(detail)")
        try FileManager.default.createDirectory(atPath: paths.redis, withIntermediateDirectories: true)
        // The rendered file first; later lines win, so these pin it to this machine.
        let local = """
            \(renderedConfig)
            # orchestrate, local platform:
            bind 127.0.0.1
            port \(port)
            dir \(paths.redis)
            daemonize yes
            pidfile \(paths.redisPidFile)
            logfile \(paths.redisLog)
            requirepass \(password)

            """
        try AtomicFile.write(Data(local.utf8), to: paths.redisConfig, permissions: 0o600)
        let status = try await ProcessLauncher.run(
            server, arguments: [paths.redisConfig], environment: [:], logPath: paths.redisLog, timeout: .seconds(30))
        guard status == 0 else { throw LocalServiceError("redis-server did not start; see \(paths.redisLog)") }
        let deadline = ContinuousClock.now + .seconds(15)
        while runningPID == nil {
            guard ContinuousClock.now < deadline else { throw LocalServiceError("redis-server did not start; see \(paths.redisLog)") }
            try await Task.sleep(for: .milliseconds(50))
        }
    }

    func stop() async {
        guard let pid = runningPID else { return }
        await ProcessLauncher.terminate(pid, grace: .seconds(15))
    }
}
