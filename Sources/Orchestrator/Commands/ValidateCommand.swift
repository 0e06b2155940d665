import ArgumentParser
import Foundation
import Manifests

struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Check environment specs and report every problem with its file, line and fix.",
        discussion: "With no ENV, checks every file in the environments folder. Exits 0 when all are valid, 1 otherwise."
    )

    @Argument(help: "Environment names (prod) or spec files (environments/prod.yaml).")
    var environments: [String] = []

    @OptionGroup var locations: SpecLocationOptions

    @Flag(help: "Print the result as JSON on stdout.")
    var json = false

    func run() throws {
        let files = DiskFiles()
        let paths: [String]
        do {
            paths = try EnvironmentArguments.paths(for: environments, in: locations.environmentsDirectory, files: files)
        } catch {
            Terminal.error("error: \(error)")
            throw ExitCodes.invalid
        }
        let reports = paths.map { path in ValidationReport(path: path, result: SpecLoader.load(path: path, using: files)) }
        if json {
            Terminal.out(try ValidationReport.json(reports))
        } else {
            for report in reports { report.printHuman() }
        }
        if reports.contains(where: { !$0.valid }) {
            throw ExitCodes.invalid
        }
    }
}

struct ValidationReport: Encodable {
    var environment: String
    var file: String
    var valid: Bool
    var summary: String?
    var specHash: String?
    var errors: [Diagnostic]

    init(path: String, result: Result<EnvironmentSpec, SpecErrors>) {
        environment = EnvironmentLoader.environmentName(of: path)
        file = path
        switch result {
        case .success(let spec):
            valid = true
            summary = EnvironmentSummary.line(for: spec)
            specHash = spec.specHash
            errors = []
        case .failure(let failure):
            valid = false
            errors = failure.diagnostics
        }
    }

    func printHuman() {
        if valid, let summary {
            Terminal.out("ok    \(environment): \(summary)")
            return
        }
        for error in errors { Terminal.error(error.description) }
        Terminal.out("FAIL  \(environment): \(errors.count) error\(errors.count == 1 ? "" : "s") in \(file)")
    }

    static func json(_ reports: [ValidationReport]) throws -> String {
        struct Output: Encodable {
            var valid: Bool
            var environments: [ValidationReport]
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let data = try encoder.encode(Output(valid: reports.allSatisfy(\.valid), environments: reports))
        return String(decoding: data, as: UTF8.self)
    }
}
