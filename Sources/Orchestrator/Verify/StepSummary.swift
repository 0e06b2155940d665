import Foundation

/// GitHub Actions shows the Markdown appended to the file `GITHUB_STEP_SUMMARY` names on the
/// run's page; elsewhere the variable is unset and nothing is written.
enum StepSummary {
    static func append(_ markdown: String, environment: [String: String] = ProcessInfo.processInfo.environment) {
        guard let path = environment["GITHUB_STEP_SUMMARY"], !path.isEmpty else { return }
        guard let handle = FileHandle(forWritingAtPath: path) ?? create(path) else {
            Terminal.error("note: cannot write the step summary to \(path)")
            return
        }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data((markdown + "\n").utf8))
    }

    private static func create(_ path: String) -> FileHandle? {
        FileManager.default.createFile(atPath: path, contents: nil) ? FileHandle(forWritingAtPath: path) : nil
    }

    static func verify(_ report: VerifyReport) -> String {
        var lines = [
            "### verify \(report.environment) on \(report.target)\(report.release.map { " (\($0))" } ?? ""): "
                + (report.passed ? "passed" : "failed"),
            "",
            "\(report.load); \(report.intended) requests, \(report.failed) failed, throughput \(Format.number(report.throughput))/s",
            "",
            "| objective | limit | measured | |",
            "| --- | --- | --- | --- |",
        ]
        for objective in report.objectives {
            lines.append(
                "| \(objective.name) | \(objective.limit) | \(objective.measured) | \(objective.passed ? "✅" : "❌ by \(objective.over ?? "-")") |"
            )
        }
        return lines.joined(separator: "\n")
    }
}
