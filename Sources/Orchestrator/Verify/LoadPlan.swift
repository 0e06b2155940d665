import Foundation
import Manifests
import NIOHTTP1

/// Where the load goes: scheme, host and port of one public address.
struct LoadEndpoint: Sendable, Equatable, CustomStringConvertible {
    var secure: Bool
    var host: String
    var port: Int

    var description: String { "\(secure ? "https" : "http")://\(hostHeader)" }

    /// The Host header: the port only when it is not the scheme's own.
    var hostHeader: String {
        let bracketed = host.contains(":") ? "[\(host)]" : host
        return port == (secure ? 443 : 80) ? bracketed : "\(bracketed):\(port)"
    }

    static func parse(_ text: String) throws -> LoadEndpoint {
        guard let url = URL(string: text), let scheme = url.scheme?.lowercased(), ["http", "https"].contains(scheme),
            let host = url.host, !host.isEmpty
        else {
            throw DeployFailure(kind: .invalid, message: "`\(text)` is not an http(s) address such as https://api.example.com")
        }
        let secure = scheme == "https"
        return LoadEndpoint(secure: secure, host: host, port: url.port ?? (secure ? 443 : 80))
    }
}

/// One kind of request the generator sends, with what its answer must be.
struct LoadRequest: Sendable {
    var scenario: String
    var method: HTTPMethod
    var path: String
    /// Scenario headers and the bearer token, if any; Host is added per endpoint.
    var headers: [(String, String)]
    var expectedStatus: Int
}

/// What to send, how fast and for how long.
struct LoadPlan: Sendable {
    enum Mode: Sendable, Equatable {
        /// A constant arrival rate (requests per second), whatever the server does: latency is
        /// measured from when each request was due, so a stall cannot hide its queue.
        case openLoop(rate: Int)
        /// Each connection sends its next request when the previous one is answered: capacity,
        /// not latency under a given load.
        case closedLoop(connections: Int)
    }

    var mode: Mode
    var endpoints: [LoadEndpoint]
    /// Requests in the order they are sent, repeated: scenarios interleaved by weight.
    var cycle: [LoadRequest]
    var warmup: Duration
    var duration: Duration
    var timeout: Duration
    /// Open loop: the most connections opened (so the most requests in flight).
    var maxConnections: Int

    /// The scenarios of a spec as one cycle of requests, interleaved by weight (smooth weighted
    /// round robin) so that a short run still sends each in proportion.
    static func cycle(of scenarios: [VerifySpec.Scenario], environment: [String: String]) throws -> [LoadRequest] {
        var requests: [LoadRequest] = []
        for scenario in scenarios {
            var headers = scenario.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
            if let variable = scenario.tokenFrom {
                guard let token = environment[variable], !token.isEmpty else {
                    throw DeployFailure(
                        kind: .invalid,
                        message: "scenario \(scenario.name) takes its token from \(variable), which is not set; export it and run again")
                }
                headers.append(("Authorization", "Bearer \(token)"))
            }
            requests.append(
                LoadRequest(
                    scenario: scenario.name, method: HTTPMethod(rawValue: scenario.method), path: scenario.path, headers: headers,
                    expectedStatus: scenario.status))
        }
        let weights = scenarios.map(\.weight)
        let total = weights.reduce(0, +)
        var current = Array(repeating: 0, count: weights.count)
        var order: [LoadRequest] = []
        for _ in 0..<total {
            for index in current.indices { current[index] += weights[index] }
            guard let chosen = current.indices.max(by: { current[$0] < current[$1] }) else { break }
            current[chosen] -= total
            order.append(requests[chosen])
        }
        return order
    }
}
