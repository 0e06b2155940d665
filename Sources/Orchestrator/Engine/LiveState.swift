import Crypto
import Foundation

/// What a platform found running, in terms the plan compares against.
struct LiveState: Codable, Sendable {
    /// Supporting parts (a database, a cache, a secrets store) and whether each is there.
    var components: [ComponentStatus]
    /// The release the fleet is meant to run, as recorded by the last apply.
    var current: ReleaseRecord?
    var instances: [InstanceStatus]

    /// Changes whenever anything a plan depends on changes; a saved plan is refused when it does.
    var fingerprint: String {
        var parts = components.map { "\($0.name)=\($0.present)" }
        parts.append("current=\(current?.id ?? 0)")
        parts += instances.map { "\($0.name)@\($0.releaseID)=\($0.state.rawValue)" }.sorted()
        return Fingerprint.sha256(parts.joined(separator: "\n"))
    }
}

/// `sha256:<hex>` of a text: how plans fingerprint the live state they were made against.
enum Fingerprint {
    static func sha256(_ text: String) -> String {
        "sha256:" + SHA256.hash(data: Array(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

struct ComponentStatus: Codable, Sendable {
    var name: String
    var present: Bool
    /// Where it is or what would be created: `PostgreSQL 15 on 127.0.0.1:55432`.
    var detail: String
}

struct InstanceStatus: Codable, Sendable {
    enum State: String, Codable, Sendable {
        case running, starting, crashed, stopped
    }

    var name: String
    var releaseID: Int
    var address: String
    var state: State
    var healthy: Bool?
    var restarts: Int
    var pid: Int32?
    /// The image it runs, where the platform says (a Fly machine's `image_ref` digest).
    var image: String? = nil
}

/// What the spec asks for on one platform.
struct DesiredState: Codable, Sendable {
    var components: [ComponentStatus]
    var configuration: ReleaseConfiguration
}
