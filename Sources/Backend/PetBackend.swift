import ArgumentParser
import Backups
import Configuration
import Foundation
import Logging
import PostgresNIO

@main
struct PetBackend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pet-backend",
        abstract: "The pet-harness shop's backend: designs API, webhooks, analytics.",
        subcommands: [Serve.self, Migrate.self, Seed.self, Backup.self],
        defaultSubcommand: Serve.self)
}

/// Exit code for a bad environment (sysexits' EX_CONFIG), distinct from a crash.
let configurationExitCode = ExitCode(78)

/// Reads and checks the environment; prints every problem (never a value) and exits otherwise.
func loadConfiguration() throws -> ServiceConfiguration {
    switch ServiceConfiguration.load(from: ConfigReader(provider: EnvironmentVariablesProvider())) {
    case .success(let configuration):
        return configuration
    case .failure(let problems):
        FileHandle.standardError.write(Data((problems.description + "\n").utf8))
        throw configurationExitCode
    }
}

func makeLogger(_ configuration: ServiceConfiguration) -> Logger {
    let level = JSONLogHandler.level(named: configuration.logLevel)
    LoggingSystem.bootstrap { label in JSONLogHandler(label: label, level: level) }
    var logger = Logger(label: configuration.appName)
    logger[metadataKey: "env"] = .string(configuration.runtime.rawValue)
    return logger
}

/// Runs `body` while the database pools are running, then stops them.
func withDatabase<T: Sendable>(_ pools: DatabasePools, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        for client in pools.clients {
            group.addTask {
                await client.run()
                return nil
            }
        }
        group.addTask { try await body() }
        defer { group.cancelAll() }
        while let result = try await group.next() {
            if let result { return result }
        }
        throw CancellationError()
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Serve HTTP until SIGTERM or SIGINT, then drain and exit 0.")

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = makeLogger(configuration)
        let backend = try await BackendApplication.make(configuration, logger: logger)
        logger.info("starting", metadata: ["port": "\(configuration.port)", "version": .string(configuration.buildVersion)])
        try await backend.application().runService()
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply pending database migrations (the release command).")

    @Flag(help: "List applied and pending migrations without applying any.")
    var status = false

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = makeLogger(configuration)
        let pools = DatabasePools(configuration: configuration, metrics: ServiceMetrics(), logger: logger)
        let migrator = Migrator(pools: pools, logger: logger)
        let showStatus = status
        let lines: [String] = try await withDatabase(pools) {
            if showStatus {
                let state = try await migrator.status()
                return state.applied.map { "applied  \($0.version)  \($0.name)" }
                    + state.pending.map { "pending  \($0.version)  \($0.name)" }
            }
            let ran = try await migrator.migrate()
            let created = try await Partitions(pools: pools, logger: logger).ensure()
            return ran.map { "applied  \($0.version)  \($0.name)" }
                + ["schema at version \(Migrations.latestVersion); partitions: \(created.joined(separator: ", "))"]
        }
        for line in lines { print(line) }
    }
}

/// The scheduled backup, run from the service's image by the CronJob or the Fly schedule.
struct Backup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Dump the database to the backup bucket and apply retention (settings from BACKUP_* and DATABASE_URL).")

    func run() async throws {
        let environment = ProcessInfo.processInfo.environment
        do {
            let job = try BackupJob(environment: environment)
            let release = environment["BUILD_VERSION"].map { String($0.prefix(19)) }
            for line in try await job.run(release: release, tools: try PostgresTools()) { print(line) }
        } catch let error as BackupError {
            FileHandle.standardError.write(Data("error: \(error)\n".utf8))
            throw ExitCode(1)
        }
    }
}

struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Load demo designs for the user `demo-user` (safe to run again).")

    func run() async throws {
        let configuration = try loadConfiguration()
        let logger = makeLogger(configuration)
        let pools = DatabasePools(configuration: configuration, metrics: ServiceMetrics(), logger: logger)
        let inserted = try await withDatabase(pools) { try await DemoData.load(into: pools, logger: logger) }
        print("seeded \(inserted) new design(s) for demo-user")
    }
}

/// Fixed ids make seeding idempotent: a second run inserts nothing.
enum DemoData {
    static let designs: [(UUID, String, String)] = [
        (
            UUID(uuidString: "00000000-0000-4000-8000-000000000001") ?? UUID(), "Trail runner",
            #"{"size":"M","color":"forest","reflective":true}"#
        ),
        (
            UUID(uuidString: "00000000-0000-4000-8000-000000000002") ?? UUID(), "City walker",
            #"{"size":"S","color":"coral","reflective":false}"#
        ),
        (
            UUID(uuidString: "00000000-0000-4000-8000-000000000003") ?? UUID(), "Night patrol",
            #"{"size":"L","color":"black","reflective":true}"#
        ),
    ]

    static func load(into pools: DatabasePools, logger: Logger) async throws -> Int {
        var inserted = 0
        for (id, name, document) in designs {
            inserted += try await pools.write { connection in
                let rows = try await connection.query(
                    """
                    INSERT INTO saved_designs (id, user_id, name, document) VALUES (\(id), 'demo-user', \(name), \(document)::jsonb)
                    ON CONFLICT (id) DO NOTHING RETURNING id
                    """, logger: logger)
                var count = 0
                for try await _ in rows.decode(UUID.self) { count += 1 }
                return count
            }
        }
        return inserted
    }
}
