import Crypto
import Foundation
import Manifests
import ProcessSupport

/// The environment's own PostgreSQL on 127.0.0.1, data under the state folder, tuned with the
/// spec's `ALTER SYSTEM` settings. Run as the `postgres` user when we are root (PostgreSQL
/// refuses to run as root). `pg_ctl` daemonizes it, so it outlives this run.
struct LocalPostgres: Sendable {
    let paths: LocalPaths
    let port: Int

    static let databaseName = "pet_backend"

    var detail: String { "PostgreSQL on 127.0.0.1:\(port), data in \(data)" }

    /// Where its files are: `.orchestrate/ENV/postgres`, or, when the postgres user cannot reach
    /// the state folder (a checkout under /root, a 0700 temporary folder), the folder outside it
    /// that this path links to.
    var folder: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: paths.postgres)) ?? paths.postgres
    }
    var data: String { folder + "/data" }
    var serverLog: String { folder + "/postgres.log" }

    var isInitialized: Bool { FileManager.default.fileExists(atPath: data + "/PG_VERSION") }

    func isRunning() async -> Bool {
        guard isInitialized, let bin = Self.binaryDirectory() else { return false }
        let status = try? await ServiceUser.run("\(bin)/pg_ctl", ["-D", data, "status"], log: nil, timeout: .seconds(10))
        return status == 0
    }

    static func url(port: Int, password: String) -> String {
        "postgres://postgres:\(password)@127.0.0.1:\(port)/\(databaseName)?sslmode=disable"
    }

    /// Creates (initdb, database, tuning) or starts it, whichever is needed.
    func ensure(password: String, tuningSQL: String, progress: any ProgressReporter) async throws {
        guard let bin = Self.binaryDirectory() else {
            throw LocalServiceError(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin); install it with `apt-get install postgresql`")
        }
        if await isRunning() { return }
        let created = !isInitialized
        if created {
            progress.step("creating \(detail)")
            try await createFolder(progress: progress)
            let passwordFile = folder + "/initdb.pw"
            try AtomicFile.write(Data(password.utf8), to: passwordFile, permissions: 0o600)
            defer { try? FileManager.default.removeItem(atPath: passwordFile) }
            try ServiceUser.giveToServiceUser(folder)
            let status = try await ServiceUser.run(
                "\(bin)/initdb",
                [
                    "-D", data, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256",
                    "--pwfile=\(passwordFile)", "-E", "UTF8", "--locale=C",
                ], log: folder + "/initdb.log", timeout: .seconds(120))
            guard status == 0 else { throw LocalServiceError("initdb failed; see \(folder)/initdb.log") }
        }
        try await start(bin: bin, progress: progress)
        if created {
            try await psql(bin: bin, password: password, database: "postgres", ["-c", "CREATE DATABASE \(Self.databaseName)"])
            let tuning = folder + "/tuning.sql"
            try Data(tuningSQL.utf8).write(to: URL(fileURLWithPath: tuning))
            try await psql(bin: bin, password: password, database: "postgres", ["-f", tuning])
            progress.step("restarting PostgreSQL with the spec's tuning")
            try await stop()
            try await start(bin: bin, progress: progress)
        }
    }

    /// The postgres user must reach its files: when it cannot reach the state folder, they go to
    /// /var/lib/orchestrate/<id>/postgres and the state folder links there.
    private func createFolder(progress: any ProgressReporter) async throws {
        try FileManager.default.createDirectory(atPath: paths.root, withIntermediateDirectories: true)
        guard ServiceUser.switching,
            (try? await ServiceUser.run("/usr/bin/test", ["-x", paths.root], log: nil, timeout: .seconds(10))) != 0
        else {
            try FileManager.default.createDirectory(atPath: paths.postgres, withIntermediateDirectories: true)
            return
        }
        let id = SHA256.hash(data: Array(paths.root.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
        let outside = "/var/lib/orchestrate/\(id)/postgres"
        try FileManager.default.createDirectory(
            atPath: outside, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        try? FileManager.default.removeItem(atPath: paths.postgres)
        try FileManager.default.createSymbolicLink(atPath: paths.postgres, withDestinationPath: outside)
        progress.step("the postgres user cannot reach \(paths.root); PostgreSQL's data goes to \(outside) (linked from \(paths.postgres))")
    }

    private func start(bin: String, progress: any ProgressReporter) async throws {
        progress.step("starting \(detail)")
        let options = "-p \(port) -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        let status = try await ServiceUser.run(
            "\(bin)/pg_ctl", ["-D", data, "-l", serverLog, "-w", "-t", "60", "-o", options, "start"],
            log: folder + "/pg_ctl.log", timeout: .seconds(90))
        guard status == 0 else {
            throw LocalServiceError("PostgreSQL did not start on port \(port)\(lastServerLogLines()); see \(serverLog)")
        }
    }

    /// Why it did not start is nearly always in the last lines (a port in use, a bad setting).
    private func lastServerLogLines() -> String {
        guard let log = try? String(contentsOfFile: serverLog, encoding: .utf8) else { return "" }
        let lines = log.split(separator: "\n").suffix(3).map { "\n    " + $0.prefix(300) }
        return lines.isEmpty ? "" : ":" + lines.joined()
    }

    func stop() async throws {
        guard let bin = Self.binaryDirectory(), await isRunning() else { return }
        _ = try await ServiceUser.run(
            "\(bin)/pg_ctl", ["-D", data, "-m", "fast", "-w", "stop"], log: folder + "/pg_ctl.log",
            timeout: .seconds(60))
    }

    private func psql(bin: String, password: String, database: String, _ arguments: [String]) async throws {
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        let status = try await ProcessLauncher.run(
            "\(bin)/psql",
            arguments: ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1"] + arguments,
            environment: environment, logPath: folder + "/psql.log", timeout: .seconds(60))
        guard status == 0 else {
            throw LocalServiceError("psql \(arguments.joined(separator: " ")) failed; see \(folder)/psql.log")
        }
    }

    /// The newest installed major version's binaries.
    static func binaryDirectory() -> String? {
        let root = "/usr/lib/postgresql"
        let versions = ((try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []).compactMap(Int.init).sorted()
        return versions.last.map { "\(root)/\($0)/bin" }
    }
}

struct LocalServiceError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// PostgreSQL's tools must not run as root: as root we switch to the `postgres` user for them.
enum ServiceUser {
    static var switching: Bool { getuid() == 0 }

    static func run(_ path: String, _ arguments: [String], log: String?, timeout: Duration) async throws -> Int32? {
        let command =
            switching
            ? ["/usr/bin/setpriv", "--reuid=postgres", "--regid=postgres", "--init-groups", "--", path] + arguments : [path] + arguments
        return try await ProcessLauncher.run(
            command[0], arguments: Array(command.dropFirst()), environment: ["PATH": "/usr/bin:/bin", "LANG": "C"], logPath: log,
            timeout: timeout)
    }

    static func giveToServiceUser(_ path: String) throws {
        guard switching else { return }
        guard let user = getpwnam("postgres") else {
            throw LocalServiceError("there is no `postgres` user to run PostgreSQL as; install the postgresql package")
        }
        let uid = user.pointee.pw_uid
        let gid = user.pointee.pw_gid
        chown(path, uid, gid)
        let entries = FileManager.default.enumerator(atPath: path)
        while let entry = entries?.nextObject() as? String {
            chown("\(path)/\(entry)", uid, gid)
        }
    }
}
