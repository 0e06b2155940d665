/// The instances of one environment on a platform that runs them one by one (local processes,
/// Fly Machines). The engine decides the order; the fleet only starts, stops and looks.
protocol InstanceFleet: Sendable {
    func instances() async throws -> [InstanceStatus]
    /// Starts one more instance running `release`.
    func start(_ release: ReleaseRecord) async throws -> InstanceStatus
    func stop(_ name: String) async throws
    /// Records that a running instance now counts as part of `release` (same configuration).
    func adopt(_ name: String, into release: ReleaseRecord) async throws
    /// One look at an instance: its process and one health endpoint.
    func probe(_ name: String, path: String) async -> ProbeResult
    func recentLog(of name: String, lines: Int) -> [String]
}

enum ProbeResult: Sendable, Equatable {
    case healthy
    /// Not ready yet or failing; the text says what was seen (`503`, `connection refused`).
    case unhealthy(String)
    /// The process keeps exiting: waiting longer will not help.
    case crashLooping(String)
}

/// Where release history lives on a platform.
protocol ReleaseHistory: Sendable {
    func all() throws -> [ReleaseRecord]
    func save(_ release: ReleaseRecord) throws
    func current() throws -> ReleaseRecord?
    func setCurrent(_ release: ReleaseRecord) throws
}

extension ReleaseHistory {
    func nextID() throws -> Int {
        (try all().map(\.id).max() ?? 0) + 1
    }
}
