import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Pod addresses the API server can reach. It refuses to proxy to loopback, so pods live in a
/// network namespace the tests make (root only), routed from the host through a veth pair: the
/// whole pod range is local there, and one server (`Tests/envtest/pod-network.py`) answers for
/// every pod's HTTP port and for the node's kubelet port. Nothing leaves the machine. The
/// namespace, its link and route are removed when the test process ends, whatever way it ends.
public final class PodNetwork: @unchecked Sendable {
    /// One /24 per test process, so two runs on one machine do not collide.
    static let slot = Int(getpid()) % 200 + 20
    public static let nodeAddress = "10.245.\(slot).2"
    static let hostAddress = "10.245.\(slot).1"
    static let podRange = "10.244.\(slot).0/24"
    static let name = "orch-\(getpid())"

    public let logFolder: String
    private let server: LocalProcess
    private let cleanup: Process

    /// Healthy pods' addresses end below 128, unhealthy ones' from 128 on (see the script).
    public static func podAddress(_ index: Int, healthy: Bool) -> String {
        "10.244.\(slot).\(healthy ? 2 + index % 120 : 130 + index % 120)"
    }

    public init(appPort: Int, certificate: String, key: String, folder: String) throws {
        logFolder = folder + "/pod-logs"
        try FileManager.default.createDirectory(atPath: logFolder, withIntermediateDirectories: true)
        let name = Self.name
        let teardown =
            "ip route del \(Self.podRange) 2>/dev/null; ip link del \(name)-h 2>/dev/null; ip netns del \(name) 2>/dev/null; true"
        let setup = [
            teardown,
            "ip netns add \(name)", "ip link add \(name)-h type veth peer name \(name)-p", "ip link set \(name)-p netns \(name)",
            "ip addr add \(Self.hostAddress)/30 dev \(name)-h", "ip link set \(name)-h up",
            "ip netns exec \(name) ip addr add \(Self.nodeAddress)/30 dev \(name)-p", "ip netns exec \(name) ip link set \(name)-p up",
            "ip netns exec \(name) ip link set lo up", "ip netns exec \(name) ip route add local \(Self.podRange) dev lo",
            "ip route add \(Self.podRange) via \(Self.nodeAddress)",
        ].joined(separator: " && ")
        let log = folder + "/pod-network-setup.log"
        guard try LocalPostgres.runBlocking("/bin/sh", ["-c", setup], log: log) == 0 else {
            throw MissingServer(
                description: "cannot make the pod network namespace (root and iproute2 are needed): "
                    + ((try? String(contentsOfFile: log, encoding: .utf8)) ?? ""))
        }
        cleanup = Process()
        cleanup.executableURL = URL(fileURLWithPath: "/bin/sh")
        cleanup.arguments = ["-c", "while kill -0 \(getpid()) 2>/dev/null; do sleep 1; done; \(teardown)"]
        cleanup.standardInput = FileHandle.nullDevice
        cleanup.standardOutput = FileHandle.nullDevice
        cleanup.standardError = FileHandle.nullDevice
        try cleanup.run()
        let script = KubernetesControlPlane.repositoryRoot + "/Tests/envtest/pod-network.py"
        server = try LocalProcess(
            name: "pod-network", command: "/usr/sbin/ip",
            arguments: ["netns", "exec", name, "python3", script, String(appPort), certificate, key, logFolder],
            logPath: folder + "/pod-network.log")
        let deadline = Date().addingTimeInterval(10)
        let probe = "curl -s -o /dev/null --max-time 1 http://\(Self.podAddress(0, healthy: true)):\(appPort)/healthz"
        while try LocalPostgres.runBlocking("/bin/sh", ["-c", probe]) != 0 {
            guard Date() < deadline else { throw MissingServer(description: "the pod network server did not answer: \(server.log)") }
            usleep(100_000)
        }
    }

    /// What the kubelet stand-in says a container printed, for `pods/NAME/log`.
    public func writeLog(namespace: String, pod: String, container: String, lines: [String]) throws {
        let folder = "\(logFolder)/\(namespace)/\(pod)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try (lines.joined(separator: "\n") + "\n").write(toFile: "\(folder)/\(container)", atomically: true, encoding: .utf8)
    }
}
