import ArgumentParser

/// Why a command stopped, with the exit code a script can act on (see README: exit codes).
struct DeployFailure: Error, CustomStringConvertible {
    enum Kind: Int32 {
        /// Bad spec, arguments or state; nothing was changed.
        case invalid = 1
        /// The release failed and the environment was rolled back to the last successful release
        /// (or nothing had changed yet).
        case rolledBack = 3
        /// The release failed and so did the rollback: the environment needs a look.
        case rollbackFailed = 4
        /// Another run holds the environment's lock.
        case locked = 5
        /// A saved plan no longer matches what is live.
        case stalePlan = 6
        /// verify (or a promote gate) measured an objective of the spec's `slo` missed.
        case objectiveMissed = 7
        /// Interrupted (Ctrl-C); the next apply converges from here.
        case interrupted = 130
    }

    var kind: Kind
    var message: String

    var description: String { message }
    var exitCode: ExitCode { ExitCode(kind.rawValue) }
}
