import Foundation
import ProcessSupport

#if canImport(Glibc)
    import Glibc
#endif

/// One run at a time per environment: an flock(2) on `lock`, which the kernel drops when the
/// holder dies however it dies, plus a note of who holds it so others can be told.
final class DeployLock: @unchecked Sendable {
    struct Holder: Codable, Sendable, CustomStringConvertible {
        var user: String
        var host: String
        var pid: Int32
        var command: String
        var since: Date

        static func current(command: String) -> Holder {
            let user = UserName.current
            return Holder(
                user: user, host: ProcessInfo.processInfo.hostName, pid: getpid(), command: command, since: Date())
        }

        var description: String {
            "`\(command)` by \(user)@\(host) (pid \(pid)) since \(Timestamps.iso8601(since))"
        }
    }

    struct Held: Error, CustomStringConvertible {
        var environment: String
        var holder: Holder?
        var description: String {
            let who = holder.map { "\($0)" } ?? "another run (no holder note)"
            return "\(environment) is locked by \(who); wait for it to finish, or stop that process"
        }
    }

    private let descriptor: Int32
    private let notePath: String
    /// Set when the previous holder died without releasing: its note is still there.
    let interruptedHolder: Holder?

    /// Takes the lock or throws `Held` naming the holder; never waits.
    init(directory: String, environment: String, command: String) throws {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let lockPath = directory + "/lock"
        notePath = directory + "/lock.holder.json"
        descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw ProcessLauncher.LaunchError(description: "cannot open \(lockPath): \(String(cString: strerror(errno)))")
        }
        let previous = try? JSONCoding.decode(Holder.self, fromFile: notePath)
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            throw Held(environment: environment, holder: previous)
        }
        interruptedHolder = previous
        try JSONCoding.write(Holder.current(command: command), toFile: notePath)
    }

    func release() {
        try? FileManager.default.removeItem(atPath: notePath)
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

enum UserName {
    /// `$USER`, else the account name of our uid (root in a container often has no `$USER`).
    static var current: String {
        let environment = ProcessInfo.processInfo.environment
        if let user = environment["USER"] ?? environment["LOGNAME"], !user.isEmpty { return user }
        guard let entry = getpwuid(getuid()) else { return "uid \(getuid())" }
        return String(cString: entry.pointee.pw_name)
    }
}
