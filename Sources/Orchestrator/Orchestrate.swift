import ArgumentParser

@main
struct Orchestrate: AsyncParsableCommand {
    static let version = "0.5.0"

    static let configuration = CommandConfiguration(
        commandName: "orchestrate",
        abstract: "Validate, render and deploy pet-backend from a declarative spec per environment.",
        version: Orchestrate.version,
        subcommands: [
            ValidateCommand.self, RenderCommand.self, PlanCommand.self, ApplyCommand.self, StatusCommand.self, ReleasesCommand.self,
            RollbackCommand.self, DownCommand.self, VerifyCommand.self, PromoteCommand.self, SecretsCommand.self, BuildCommand.self,
            BackupCommand.self, BackupsCommand.self, RestoreCommand.self, SupervisorCommand.self,
        ]
    )
}

/// Where the spec files and templates are; defaults fit running from the repository root.
struct SpecLocationOptions: ParsableArguments {
    @Option(name: .customLong("environments"), help: "The folder of environment specs.")
    var environmentsDirectory = "environments"

    @Option(name: .customLong("templates"), help: "The folder of base templates.")
    var templatesDirectory = "templates"
}

/// Exit codes a script can rely on.
enum ExitCodes {
    /// A spec, a template or an argument is wrong; the messages say where.
    static let invalid = ExitCode(1)
}
