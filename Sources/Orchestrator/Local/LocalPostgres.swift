import Backups
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

    /// Creates or starts it, step by step, each step checked on its own so that a run killed at
    /// any point (during initdb, before the database, before the tuning) is finished by the next:
    /// the cluster is initialized in a folder of its own and renamed into place only when
    /// complete, the database is looked for by connecting, and the tuning is applied until a
    /// note says this exact tuning took effect.
    func ensure(password: String, tuningSQL: String, progress: any ProgressReporter) async throws {
        guard let bin = Self.binaryDirectory() else {
            throw LocalServiceError(
                "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin); install it with `apt-get install postgresql`")
        }
        if !isInitialized {
            progress.step("creating \(detail)")
            try await createFolder(progress: progress)
            try await initializeCluster(bin: bin, password: password)
        }
        try await startUntilAccepting(bin: bin, progress: progress)
        try await psql(bin: bin, password: password, script: "ensure-database.sql", Self.createDatabaseIfMissing)
        if (try? String(contentsOfFile: tuningNote, encoding: .utf8)) != tuningSQL {
            try await psql(bin: bin, password: password, script: "tuning.sql", tuningSQL)
            progress.step("restarting PostgreSQL with the spec's tuning")
            try await stop()
            try await start(bin: bin, progress: progress)
            try AtomicFile.write(Data(tuningSQL.utf8), to: tuningNote, permissions: 0o644)
        }
    }

    /// Started, and answering on its port: `pg_ctl status` alone trusts a postmaster.pid whose
    /// process is a zombie not yet reaped, for a while after `kill -9`.
    func isAccepting() async -> Bool {
        guard let bin = Self.binaryDirectory(), await isRunning() else { return false }
        return (try? await answers(bin: bin)) == true
    }

    private func answers(bin: String) async throws -> Bool {
        try await ProcessLauncher.run(
            "\(bin)/pg_isready", arguments: ["-q", "-h", "127.0.0.1", "-p", String(port)], environment: [:], logPath: nil,
            timeout: .seconds(10)) == 0
    }

    /// Starts it unless it runs, and waits until it answers. Started again while it does not
    /// run: after a `kill -9` pg_ctl sees a zombie postmaster for a while and a new one finds the
    /// old one's shared memory until its backends are gone; a killed run's pg_ctl may also still
    /// be starting it.
    private func startUntilAccepting(bin: String, progress: any ProgressReporter) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        var lastFailure: (any Error)?
        while true {
            if await !isRunning() {
                do {
                    try await start(bin: bin, progress: progress)
                } catch let failure as LocalServiceError {
                    lastFailure = failure
                }
            }
            if try await answers(bin: bin) { return }
            guard ContinuousClock.now < deadline else {
                throw lastFailure
                    ?? LocalServiceError("PostgreSQL on port \(port) does not accept connections\(lastServerLogLines()); see \(serverLog)")
            }
            try await Task.sleep(for: .milliseconds(200))
        }
    }

    /// The tuning last applied and restarted with.
    private var tuningNote: String { folder + "/tuning.applied" }

    static let createDatabaseIfMissing = """
        SELECT 'CREATE DATABASE \(databaseName)' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '\(databaseName)')\\gexec

        """

    /// initdb into `data.partial-PID`, renamed to `data` once it succeeded. A killed run's folder
    /// is removed by the next (a killed initdb may still be writing to its own, never to ours),
    /// and so is its password file.
    private func initializeCluster(bin: String, password: String) async throws {
        let leftovers = (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
        for name in leftovers where name.hasPrefix("data.partial-") || name == "initdb.pw" {
            try? FileManager.default.removeItem(atPath: folder + "/" + name)
        }
        let partial = folder + "/data.partial-\(getpid())"
        let passwordFile = folder + "/initdb.pw"
        try AtomicFile.write(Data(password.utf8), to: passwordFile, permissions: 0o600)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }
        try ServiceUser.giveToServiceUser(folder)
        let status = try await ServiceUser.run(
            "\(bin)/initdb",
            [
                "-D", partial, "-U", "postgres", "--auth-local=peer", "--auth-host=scram-sha-256",
                "--pwfile=\(passwordFile)", "-E", "UTF8", "--locale=C",
            ], log: folder + "/initdb.log", timeout: .seconds(120))
        guard status == 0 else { throw LocalServiceError("initdb failed; see \(folder)/initdb.log") }
        guard rename(partial, data) == 0 else {
            throw LocalServiceError("cannot move the new cluster \(partial) to \(data): \(String(cString: strerror(errno)))")
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
        // A killed run's pg_ctl may have started it meanwhile.
        let startedMeanwhile = status == 0 ? false : await isRunning()
        guard status == 0 || startedMeanwhile else {
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

    private func psql(bin: String, password: String, script name: String, _ sql: String) async throws {
        let script = folder + "/" + name
        try AtomicFile.write(Data(sql.utf8), to: script, permissions: 0o644)
        var environment = ProcessInfo.processInfo.environment
        environment["PGPASSWORD"] = password
        let status = try await ProcessLauncher.run(
            "\(bin)/psql",
            arguments: [
                "-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-f", script,
            ],
            environment: environment, logPath: folder + "/psql.log", timeout: .seconds(60))
        guard status == 0 else {
            throw LocalServiceError("psql -f \(script) failed; see \(folder)/psql.log")
        }
    }

    /// The newest installed major version's binaries.
    static func binaryDirectory() -> String? { PostgresTools.newestPackagedBinaries() }
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
