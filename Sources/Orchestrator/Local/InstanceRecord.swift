import Foundation

/// What `instances/NAME.json` says about one local instance: written by apply, read by the
/// supervisor that runs it and by every later command.
struct InstanceRecord: Codable, Sendable {
    var name: String
    var port: Int
    var releaseID: Int
    var binary: String
    /// The non-secret environment; secrets are read from the secrets file at each start.
    var environment: [String: String]
    var secretsFile: String
    var logFile: String
    var stateFile: String
    var supervisorPID: Int32?
    var createdAt: Date
    /// Probed by the supervisor, which restarts an instance that stops answering.
    var liveness: LivenessCheck?
}

/// What the supervisor writes after each start and exit of its child.
struct SupervisorState: Codable, Sendable {
    var childPID: Int32?
    var starts: Int
    var lastExitStatus: Int32?
    var lastExitAt: Date?
    var lastStartAt: Date?
}
