import ArgumentParser
import Foundation
import Manifests
import Synchronization

extension TargetsSpec.Name: ExpressibleByArgument {}

/// What every deploy command takes: the environment, the target, where local state lives.
struct DeployOptions: ParsableArguments {
    @Argument(help: "The environment (dev) or its spec file; for apply, also a plan saved by `plan --out`.")
    var environment: String

    @Option(help: "local, fly or kubernetes. Default: the spec's `targets.default`, else local.")
    var target: TargetsSpec.Name?

    @Option(name: .customLong("state-dir"), help: "Where the local target keeps its data, secrets and releases.")
    var stateDirectory = ".orchestrate"

    @Option(help: "Kubernetes: the kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).")
    var kubeconfig: String?

    @Option(help: "Kubernetes: the kubeconfig context (default: targets.kubernetes.context, then the current context).")
    var context: String?

    @Option(name: .customLong("request-timeout"), help: "Kubernetes, Fly: seconds one API request may take before it is retried.")
    var requestTimeout = 60

    @OptionGroup var locations: SpecLocationOptions

    func chosenTarget(for spec: EnvironmentSpec) -> TargetsSpec.Name {
        target ?? spec.targets.defaultTarget ?? .local
    }

    /// The Kubernetes target's client, connected as kubectl would for this environment.
    func kubernetesClient(for spec: EnvironmentSpec) throws -> (KubernetesClient, KubernetesTarget) {
        guard let target = spec.targets.kubernetes else {
            throw DeployFailure(kind: .invalid, message: "\(spec.name) has no `targets.kubernetes` in \(spec.files.last ?? "its spec")")
        }
        do {
            let connection = try KubernetesConnection.resolve(kubeconfig: kubeconfig, context: context ?? target.context)
            return (try KubernetesClient(connection: connection, requestTimeout: .seconds(Int64(max(requestTimeout, 1)))), target)
        } catch let error as KubernetesError {
            throw DeployFailure(kind: .invalid, message: error.description)
        }
    }

    func loadSpec() throws -> EnvironmentSpec {
        let path = EnvironmentArguments.path(for: environment, in: locations.environmentsDirectory)
        switch SpecLoader.load(path: path, using: DiskFiles()) {
        case .success(let spec): return spec
        case .failure(let failure):
            for diagnostic in failure.diagnostics { Terminal.error(diagnostic.description) }
            throw DeployFailure(kind: .invalid, message: "\(path) is not valid; nothing was changed")
        }
    }

    /// The one place that chooses the target; every deploy command goes through what it returns.
    func deployTarget(
        for spec: EnvironmentSpec, binary: String? = nil, image: String? = nil, forceConflicts: Bool = false, stealLock: Bool = false
    ) throws -> any DeployTarget {
        switch chosenTarget(for: spec) {
        case .local:
            let platform = try LocalPlatform(
                spec: spec, stateDirectory: absolute(stateDirectory),
                templates: TemplateSet(directory: locations.templatesDirectory, files: DiskFiles()),
                orchestratePath: Self.executablePath)
            return LocalDeployTarget(spec: spec, platform: platform, binary: binary ?? Self.defaultBinary)
        case .kubernetes:
            let (client, target) = try kubernetesClient(for: spec)
            return KubernetesDeployTarget(
                spec: spec, client: client, target: target, templates: locations.templatesDirectory, image: image,
                forceConflicts: forceConflicts, stealLock: stealLock)
        case .fly:
            let api = try FlyDeployTarget.connect(spec: spec, requestTimeout: .seconds(max(requestTimeout, 2)))
            guard let fly = spec.targets.fly else { throw DeployFailure(kind: .invalid, message: "\(spec.name) has no `targets.fly`") }
            return FlyDeployTarget(spec: spec, target: fly, platform: FlyPlatform(spec: spec, target: fly, api: api), image: image)
        }
    }

    private func absolute(_ path: String) -> String {
        path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
    }

    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    /// `pet-backend` built next to this `orchestrate`.
    static var defaultBinary: String {
        URL(fileURLWithPath: executablePath).deletingLastPathComponent().appendingPathComponent("pet-backend").path
    }

    static var actor: String {
        "\(UserName.current)@\(ProcessInfo.processInfo.hostName)"
    }
}

/// Runs `body` so that Ctrl-C or SIGTERM cancels it (the engine stops between steps and
/// records where it was) instead of killing the process mid-write.
enum Interruptible {
    /// What a signal cancels: the run in progress, if any.
    private static let cancelCurrent = Mutex<(@Sendable () -> Void)?>(nil)

    /// The signal sources, made once per process: cancelling them and making new ones for a
    /// second run left that run deaf to Ctrl-C (seen: a promote, which runs twice, kept going).
    private static let sources = Mutex<[any DispatchSourceSignal]>(
        [SIGINT, SIGTERM].map { signalNumber in
            signal(signalNumber, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
            source.setEventHandler {
                Terminal.error("\ninterrupted: stopping after the current step (press Ctrl-C again to force)")
                cancelCurrent.withLock { $0?() }
                signal(SIGINT, SIG_DFL)
            }
            source.resume()
            return source
        })

    static func run<Value: Sendable>(_ body: @escaping @Sendable () async throws -> Value) async throws -> Value {
        sources.withLock { _ in }
        let task = Task { try await body() }
        cancelCurrent.withLock { $0 = { task.cancel() } }
        defer { cancelCurrent.withLock { $0 = nil } }
        do {
            return try await task.value
        } catch is CancellationError {
            throw DeployFailure(kind: .interrupted, message: "interrupted; the next apply converges from what is live")
        }
    }
}

/// Prints a command's failure and exits with its code.
enum FailureReport {
    /// Runs a command's body; any failure becomes its message on stderr and its exit code.
    static func reporting(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let code as ExitCode {
            throw code
        } catch {
            throw exit(for: error)
        }
    }

    static func exit(for error: Error) -> ExitCode {
        if let failure = error as? DeployFailure {
            Terminal.error("error: \(failure.message)")
            return failure.exitCode
        }
        if let code = error as? ExitCode { return code }
        Terminal.error("error: \(error)")
        return ExitCode(1)
    }
}
