import CProcessSpawn
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts programs with posix_spawn: an empty signal mask (so they react to SIGTERM as under an
/// init system, whatever this process blocks), only stdin/stdout/stderr inherited (so a daemon
/// never keeps our pipes or lock file open), and optionally in a session of its own.
public enum ProcessLauncher {
    public struct LaunchError: Error, CustomStringConvertible {
        public var description: String

        public init(description: String) {
            self.description = description
        }
    }

    /// Starts `path` and returns its pid; output (stdout and stderr) is appended to `logPath`.
    public static func spawn(
        _ path: String, arguments: [String], environment: [String: String], logPath: String?, workingDirectory: String? = nil,
        detached: Bool = false
    ) throws -> pid_t {
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        var defaults = sigset_t()
        sigfillset(&defaults)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if detached { flags |= Int32(orchestrate_spawn_setsid_flag()) }
        posix_spawnattr_setflags(&attributes, Int16(flags))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, logPath ?? "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0o640)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        orchestrate_spawn_add_closefrom(&actions, 3)
        if let workingDirectory {
            orchestrate_spawn_add_chdir(&actions, workingDirectory)
        }
        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        let envp = environment.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer {
            argv.forEach { free($0) }
            envp.forEach { free($0) }
        }
        var child = pid_t()
        let status = posix_spawn(&child, path, &actions, &attributes, argv, envp)
        guard status == 0 else {
            throw LaunchError(description: "cannot start \(path): \(String(cString: strerror(status)))")
        }
        return child
    }

    /// Runs a program to completion and returns its exit status (negative: killed by that signal).
    /// Gives up after `timeout`, killing it, and returns nil.
    public static func run(
        _ path: String, arguments: [String], environment: [String: String], logPath: String?, timeout: Duration
    ) async throws -> Int32? {
        let pid = try spawn(path, arguments: arguments, environment: environment, logPath: logPath)
        if let status = await waitForExit(pid, timeout: timeout) { return status }
        kill(pid, SIGKILL)
        _ = await waitForExit(pid, timeout: .seconds(5))
        return nil
    }

    /// Polls a child of this process for its exit without blocking a thread of the concurrency pool.
    public static func waitForExit(_ pid: pid_t, timeout: Duration) async -> Int32? {
        let deadline = ContinuousClock.now + timeout
        repeat {
            var status: Int32 = 0
            let result = waitpid(pid, &status, WNOHANG)
            if result == pid { return decode(status) }
            if result < 0 { return nil }
            try? await Task.sleep(for: .milliseconds(25))
        } while ContinuousClock.now < deadline
        return nil
    }

    public static func decode(_ status: Int32) -> Int32 {
        (status & 0x7f) == 0 ? (status >> 8) & 0xff : -(status & 0x7f)
    }

    public static func isAlive(_ pid: pid_t) -> Bool {
        pid > 0 && (kill(pid, 0) == 0 || errno == EPERM)
    }

    /// Alive and still the program we started: after a reboot a recorded pid may belong to
    /// something else, which must never be signalled.
    public static func isAlive(_ pid: pid_t, running fragment: String) -> Bool {
        guard isAlive(pid), let command = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")) else { return false }
        return String(decoding: command.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(fragment)
    }

    /// Alive and a child of `parent` (the program may have exec'd something else since).
    public static func isAlive(_ pid: pid_t, childOf parent: pid_t) -> Bool {
        guard isAlive(pid), let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let closing = stat.lastIndex(of: ")")
        else { return false }
        // After "pid (comm)": state, then the parent's pid.
        let fields = stat[stat.index(after: closing)...].split(separator: " ")
        return fields.count > 1 && pid_t(fields[1]) == parent
    }

    /// Finds a program on PATH or in the given folders.
    public static func executable(_ name: String, searching extra: [String] = []) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let folders = path.split(separator: ":").map(String.init) + extra
        return folders.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }
}

extension ProcessLauncher {
    /// Sends SIGTERM, waits up to `grace` for the process to go, then SIGKILL. Works for our own
    /// children (reaped here) and for daemons an earlier run started.
    public static func terminate(_ pid: pid_t, grace: Duration) async {
        guard isAlive(pid) else { return }
        kill(pid, SIGTERM)
        // As systemd does: a stopped (SIGSTOP) process acts on SIGTERM only once continued.
        kill(pid, SIGCONT)
        if await waitUntilGone(pid, timeout: grace) { return }
        kill(pid, SIGKILL)
        _ = await waitUntilGone(pid, timeout: .seconds(5))
    }

    public static func waitUntilGone(_ pid: pid_t, timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        repeat {
            var status: Int32 = 0
            _ = waitpid(pid, &status, WNOHANG)
            if !isAlive(pid) { return true }
            try? await Task.sleep(for: .milliseconds(25))
        } while ContinuousClock.now < deadline
        return false
    }
}
