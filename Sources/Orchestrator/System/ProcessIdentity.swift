import Foundation

/// Names this process so that another run on the same machine can tell for certain that it has
/// died: the kernel's boot id and pid namespace (a pid means something only within both), the
/// pid, and the process's start time (a reused pid starts later). Linux only; elsewhere there is
/// no identity and a lock is only ever freed by its expiry or `--steal-lock`.
struct ProcessIdentity: Equatable, Sendable {
    let boot: String
    let pidNamespace: String
    let pid: Int32
    let startTime: String

    static func current() -> ProcessIdentity? { of(getpid()) }

    static func of(_ pid: Int32) -> ProcessIdentity? {
        guard let boot = bootID, let namespace = pidNamespace, let started = startTime(of: pid) else { return nil }
        return ProcessIdentity(boot: boot, pidNamespace: namespace, pid: pid, startTime: started)
    }

    var text: String { "\(boot)/\(pidNamespace)/\(pid)/\(startTime)" }

    init(boot: String, pidNamespace: String, pid: Int32, startTime: String) {
        self.boot = boot
        self.pidNamespace = pidNamespace
        self.pid = pid
        self.startTime = startTime
    }

    init?(text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let pid = Int32(parts[2]), pid > 0 else { return nil }
        self.init(boot: parts[0], pidNamespace: parts[1], pid: pid, startTime: parts[3])
    }

    /// True only when this machine can see the process's whole world (same boot, same pid
    /// namespace) and the process is not in it: gone, or its pid taken by a later process.
    var isCertainlyGone: Bool {
        guard let here = Self.current(), here.boot == boot, here.pidNamespace == pidNamespace else { return false }
        return Self.startTime(of: pid) != startTime
    }

    private static var bootID: String? {
        (try? String(contentsOfFile: "/proc/sys/kernel/random/boot_id", encoding: .utf8))?
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    private static var pidNamespace: String? {
        try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/ns/pid")
    }

    /// Field 22 of /proc/PID/stat, counted after the command name (which may hold spaces and
    /// parentheses, so the fields start after its last `)`).
    private static func startTime(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 19 ? String(fields[19]) : nil
    }
}
