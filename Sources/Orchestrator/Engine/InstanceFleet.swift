/// The instances of one environment on a platform that runs them one by one (local processes,
/// Fly Machines). The engine decides the order; the fleet only starts, stops and looks.
protocol InstanceFleet: Sendable {
    func instances() async throws -> [InstanceStatus]
    /// Starts one more instance running `release`.
    func start(_ release: ReleaseRecord) async throws -> InstanceStatus
    func stop(_ name: String) async throws
    /// Turns an instance into one of `release` in place (a Fly Machine updated under its lease
    /// keeps its id, region and volume); nil where the platform can only stop and start.
    func replace(_ name: String, with release: ReleaseRecord) async throws -> InstanceStatus?
    /// Records that a running instance now counts as part of `release` (same configuration).
    func adopt(_ name: String, into release: ReleaseRecord) async throws
    /// One look at an instance: its process and one health endpoint.
    func probe(_ name: String, path: String) async -> ProbeResult
    func recentLog(of name: String, lines: Int) -> [String]
}

extension InstanceFleet {
    func replace(_ name: String, with release: ReleaseRecord) async throws -> InstanceStatus? { nil }
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
    func all() async throws -> [ReleaseRecord]
    func save(_ release: ReleaseRecord) async throws
    func current() async throws -> ReleaseRecord?
    func setCurrent(_ release: ReleaseRecord) async throws
}

extension ReleaseHistory {
    func nextID() async throws -> Int {
        (try await all().map(\.id).max() ?? 0) + 1
    }
}
