import Foundation
import ProcessSupport

/// A psql session holding one exported snapshot open, so that pg_dump (`--snapshot`) dumps
/// exactly what this session counted: the manifest's row counts are the dump's, even while the
/// service writes.
final class SnapshotSession: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffered = ""

    init(_ url: DatabaseURL, tools: PostgresTools) throws {
        process.executableURL = URL(fileURLWithPath: "\(tools.binaries)/psql")
        process.arguments = ["-X", "-w", "-A", "-t", "-q", "-F", "\t", "-v", "ON_ERROR_STOP=1", "--dbname", url.withoutPassword]
        process.environment = url.environment
        process.standardInput = input
        process.standardOutput = output
        process.standardError = output
        try process.run()
    }

    /// Starts the transaction and returns the snapshot's name and what it holds.
    func open() async throws -> (snapshot: String, facts: DatabaseFacts) {
        let marker = "orchestrate-end-\(UUID().uuidString.prefix(8))"
        try send(
            """
            BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;
            SELECT pg_export_snapshot();
            SELECT '\(marker)-snapshot';
            \(DatabaseFacts.schemaVersionSQL);
            SELECT '\(marker)-version';
            \(DatabaseFacts.tableRowsSQL);
            SELECT '\(marker)-rows';

            """)
        let snapshot = try await lines(until: "\(marker)-snapshot")
        let version = try await lines(until: "\(marker)-version")
        let rows = try await lines(until: "\(marker)-rows")
        guard let name = snapshot.last, !name.isEmpty, !name.contains(" ") else {
            throw BackupError("could not hold a snapshot for the dump: \(snapshot.joined(separator: " ").prefix(300))")
        }
        let split = { (lines: [String]) in lines.map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) } }
        return (name, DatabaseFacts.parse(version: split(version), rows: split(rows)))
    }

    func close() {
        try? send("COMMIT;\n\\q\n")
        try? input.fileHandleForWriting.close()
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
    }

    private func send(_ text: String) throws {
        try input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
    }

    /// Lines up to the marker line (not included); an error line or the end of psql stops it.
    private func lines(until marker: String) async throws -> [String] {
        while true {
            if let range = buffered.range(of: marker + "\n") {
                let block = String(buffered[..<range.lowerBound])
                buffered = String(buffered[range.upperBound...])
                return block.split(separator: "\n").map(String.init)
            }
            if buffered.contains("ERROR:") || buffered.contains("FATAL:") {
                throw BackupError("psql: \(buffered.trimmingCharacters(in: .whitespacesAndNewlines).suffix(500))")
            }
            let handle = output.fileHandleForReading
            let chunk = try await withCheckedThrowingContinuation { continuation in
                DispatchQueue.global().async { continuation.resume(with: Result { try handle.readSomeRetryingInterrupts() }) }
            }
            guard !chunk.isEmpty else { throw BackupError("psql ended before answering: \(buffered.suffix(500))") }
            buffered += String(decoding: chunk, as: UTF8.self)
        }
    }
}
