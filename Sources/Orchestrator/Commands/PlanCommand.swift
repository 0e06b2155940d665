import ArgumentParser
import Foundation
import Manifests

struct PlanCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plan", abstract: "Show what apply would change: the spec and build against what is live.",
        discussion: """
            Exit codes: 0 success (with --detailed-exitcode: no changes), 2 changes (only with \
            --detailed-exitcode), 1 error. Secret values are never shown: `(sensitive)`.
            """)

    @OptionGroup var options: DeployOptions

    @Option(help: "The pet-backend build to deploy. Default: the one built next to orchestrate.")
    var binary: String?

    @Flag(help: "Print the plan as JSON.")
    var json = false

    @Flag(name: .customLong("detailed-exitcode"), help: "Exit 0 when there are no changes, 2 when there are.")
    var detailedExitCode = false

    @Option(help: "Save the plan; `orchestrate apply FILE` applies exactly it.")
    var out: String?

    @Option(help: "Kubernetes: the image to deploy, by digest (REPO@sha256:...). Default: the spec's repository, tag 'unreleased'.")
    var image: String?

    func run() async throws {
        try await FailureReport.reporting {
            let spec = try options.loadSpec()
            let target = try options.deployTarget(for: spec, binary: binary, image: image)
            let plan = try await DeployTargets.using(target) { try await $0.plan() }
            if let out { try JSONCoding.write(SavedPlan(plan: plan, options: options, binary: binary), toFile: out) }
            if json {
                Terminal.out(try JSONCoding.encode(plan))
            } else {
                Terminal.out(PlanPrinter.text(plan, style: TextStyle(colors: Terminal.colorsOnStandardOutput)))
                if let out { Terminal.out("Saved to \(out); apply it with `orchestrate apply \(out)`.") }
            }
            if detailedExitCode && plan.hasChanges { throw ExitCode(2) }
        }
    }
}

/// A plan file: the plan plus the options it was made with, so apply can rebuild the platform.
struct SavedPlan: Codable, Sendable {
    var plan: Plan
    var environment: String
    var stateDirectory: String
    var environmentsDirectory: String
    var templatesDirectory: String
    /// The target and how it was reached, so that apply talks to the same one.
    var target: String?
    var kubeconfig: String?
    var context: String?
    var binary: String?

    init(plan: Plan, options: DeployOptions, binary: String?) {
        self.plan = plan
        environment = options.environment
        stateDirectory = options.stateDirectory
        environmentsDirectory = options.locations.environmentsDirectory
        templatesDirectory = options.locations.templatesDirectory
        target = options.target?.rawValue
        kubeconfig = options.kubeconfig
        context = options.context
        self.binary = binary
    }

    /// The options the plan was made with, over those given to apply.
    func options(_ given: DeployOptions) -> DeployOptions {
        var options = given
        options.environment = environment
        options.stateDirectory = stateDirectory
        options.locations.environmentsDirectory = environmentsDirectory
        options.locations.templatesDirectory = templatesDirectory
        options.target = target.flatMap(TargetsSpec.Name.init(rawValue:)) ?? given.target
        options.kubeconfig = kubeconfig ?? given.kubeconfig
        options.context = context ?? given.context
        return options
    }
}

extension SavedPlan {
    /// The plan saved in the file `argument` names; nil when it names an environment or a spec
    /// file. A file that is neither is refused, never read as an environment's name.
    static func load(_ argument: String) throws -> SavedPlan? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory), !isDirectory.boolValue,
            !argument.hasSuffix(".yaml"), !argument.hasSuffix(".yml")
        else { return nil }
        do {
            return try JSONCoding.decode(SavedPlan.self, fromFile: argument)
        } catch {
            let reason: String
            switch error as? DecodingError {
            case .dataCorrupted?: reason = "it is not complete JSON"
            case .keyNotFound(let key, _)?: reason = "it has no `\(key.stringValue)`"
            case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
                reason = "`\(context.codingPath.map(\.stringValue).joined(separator: "."))` is not what a saved plan holds"
            default: reason = "it cannot be read (\(error.localizedDescription))"
            }
            throw DeployFailure(
                kind: .invalid,
                message:
                    "\(argument) is not a plan saved by `orchestrate plan --out`: \(reason); nothing was changed. Save the plan again, or name an environment"
            )
        }
    }
}
