import Foundation
import NIOCore
import Synchronization
import TestSupport

@testable import Orchestrator

/// What a container does once the stand-in "runs" it, chosen by the test per image.
enum PodBehavior: Sendable {
    /// Running and Ready, its health endpoint answering 200.
    case serve
    /// Running and Ready, but `/healthz/detailed` answers 503 (a database it cannot reach).
    case serveUnhealthy
    /// Running, never Ready.
    case neverReady
    /// Exits at once, again and again: `CrashLoopBackOff` with a rising restart count.
    case crashLoop(log: [String])
    /// Never starts: `ImagePullBackOff`, `CreateContainerConfigError`…
    case waiting(reason: String, message: String)
    /// Runs to completion with this exit code (a Job's pod).
    case exit(code: Int, log: [String])
}

/// The node the control plane lacks, played through the API as a kubelet plays it: it registers
/// a Node whose kubelet endpoint is the pod network's, binds every pod of its namespace to it,
/// writes pod status (in the shapes of shared/reference/kubernetes/fixtures) and finishes the
/// deletion of pods the controllers delete. Polls every 100 ms; stops with `stop()`.
final class KubeletStandIn: Sendable {
    static let nodeName = "envtest-node"

    let namespace: String
    private let client: KubernetesClient
    private let network: PodNetwork
    private let state = Mutex(State())
    private let task = Mutex<Task<Void, Never>?>(nil)

    struct State {
        var serving: [String: PodBehavior] = [:]
        var jobs: [String: PodBehavior] = [:]
        /// Pods whose status was written, by uid: the key their behaviour was chosen by (a
        /// serving pod's image, a Job pod's `command:` key), so a change reaches them.
        var written: [String: String] = [:]
        /// Bumped when a behaviour changes: a status chosen under an older one is not final.
        var behaviorVersion = 0
        var nextAddress = 0
    }

    init(client: KubernetesClient, network: PodNetwork, namespace: String) async throws {
        self.client = client
        self.network = network
        self.namespace = namespace
        try await Self.registerNode(client)
        let loop = Task { [weak self] in
            while !Task.isCancelled {
                guard let self else { return }
                try? await self.tick()
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        task.withLock { $0 = loop }
    }

    func stop() {
        task.withLock { $0?.cancel() }
    }

    /// How pods of a Deployment (or any non-Job pod) running `image` behave; `.serve` unless said.
    /// Pods already running it change too (a database back, a config fixed).
    func serving(_ image: String, _ behavior: PodBehavior) {
        state.withLock { state in
            state.serving[image] = behavior
            state.written = state.written.filter { $0.value != image }
            state.behaviorVersion += 1
        }
    }

    /// How a Job's pods running `image` behave; they exit 0 unless said.
    func jobs(_ image: String, _ behavior: PodBehavior) {
        state.withLock { $0.jobs[image] = behavior }
    }

    /// How a Job's pods whose command ends in `argument` (`migrate`, `backup`) behave, whatever
    /// their image; this comes before the image's behaviour. Pods still running change too (a
    /// migration that fails after its apply was killed); a pod that ended stays as it ended.
    func jobs(running argument: String, _ behavior: PodBehavior) {
        state.withLock { state in
            state.jobs["command:" + argument] = behavior
            state.written = state.written.filter { $0.value != "command:" + argument }
            state.behaviorVersion += 1
        }
    }

    static func registerNode(_ client: KubernetesClient) async throws {
        let node: [String: Any] = ["apiVersion": "v1", "kind": "Node", "metadata": ["name": nodeName]]
        let created = try await client.send(.POST, "/api/v1/nodes", body: json(node), contentType: "application/json")
        guard created.status == .created || created.status == .conflict else {
            throw MissingServer(description: "cannot register the node: \(String(buffer: created.body))")
        }
        guard var live = try await client.object("/api/v1/nodes/\(nodeName)", label: "nodes/\(nodeName)") else { return }
        live["status"] = [
            "addresses": [["type": "InternalIP", "address": PodNetwork.nodeAddress]],
            "daemonEndpoints": ["kubeletEndpoint": ["Port": 10250]],
            "conditions": [
                ["type": "Ready", "status": "True", "reason": "KubeletReady", "lastHeartbeatTime": now(), "lastTransitionTime": now()]
            ],
        ]
        _ = try await client.send(.PUT, "/api/v1/nodes/\(nodeName)/status", body: json(live), contentType: "application/json")
    }

    private func tick() async throws {
        let pods = try await client.list("/api/v1/namespaces/\(namespace)/pods", label: "pods")
        for pod in pods {
            guard let name = Field.string(pod, "metadata", "name"), let uid = Field.string(pod, "metadata", "uid") else { continue }
            let path = "/api/v1/namespaces/\(namespace)/pods/\(name)"
            if Field.string(pod, "metadata", "deletionTimestamp") != nil {
                // The kubelet confirms a deletion once the containers have stopped.
                _ = try await client.send(.DELETE, path + "?gracePeriodSeconds=0")
                continue
            }
            if Field.string(pod, "spec", "nodeName") == nil {
                let binding: [String: Any] = [
                    "apiVersion": "v1", "kind": "Binding", "metadata": ["name": name],
                    "target": ["apiVersion": "v1", "kind": "Node", "name": Self.nodeName],
                ]
                _ = try await client.send(.POST, path + "/binding", body: Self.json(binding), contentType: "application/json")
                continue
            }
            guard let version = state.withLock({ $0.written[uid] == nil ? $0.behaviorVersion : nil }) else { continue }
            let phase = Field.string(pod, "status", "phase")
            guard phase != "Succeeded", phase != "Failed" else { continue }
            var updated = pod
            let (status, key) = try status(of: pod, name: name)
            updated["status"] = status
            let answer = try await client.send(.PUT, path + "/status", body: Self.json(updated), contentType: "application/json")
            // A behaviour changed while this status was written (the test switched the image to
            // serve, say): leave the pod for the next tick to write again.
            if answer.status == .ok { state.withLock { if $0.behaviorVersion == version { $0.written[uid] = key } } }
        }
    }

    private func status(of pod: [String: Any], name: String) throws -> (status: [String: Any], behaviorKey: String) {
        let labels = Field.map(pod, "metadata", "labels") ?? [:]
        let isJob = labels["batch.kubernetes.io/job-name"] != nil
        let containers = Field.map(pod, "spec")?["containers"] as? [[String: Any]] ?? []
        let image = containers.first?["image"] as? String ?? ""
        let commandKey = (containers.first?["command"] as? [String])?.last.map { "command:" + $0 }
        let behaviorKey = isJob ? commandKey ?? "job:" + image : image
        let (behavior, index) = state.withLock { state -> (PodBehavior, Int) in
            state.nextAddress += 1
            let command = commandKey.flatMap { state.jobs[$0] }
            let chosen =
                isJob ? command ?? state.jobs[image] ?? .exit(code: 0, log: ["migrations: up to date"]) : state.serving[image] ?? .serve
            return (chosen, state.nextAddress)
        }
        let time = Self.now()
        var address: String? = PodNetwork.podAddress(index, healthy: true)
        var phase = "Running"
        var ready = false
        var started = true
        var restarts = 0
        var containerState: [String: Any] = ["running": ["startedAt": time]]
        var lastState: [String: Any] = [:]
        switch behavior {
        case .serve:
            ready = true
        case .serveUnhealthy:
            ready = true
            address = PodNetwork.podAddress(index, healthy: false)
        case .neverReady:
            break
        case .crashLoop(let log):
            try writeLog(log, pod: name, containers: containers)
            restarts = 3
            started = false
            containerState = [
                "waiting": [
                    "reason": "CrashLoopBackOff",
                    "message": "back-off 40s restarting failed container=\(containers.first?["name"] ?? "") pod=\(name)",
                ]
            ]
            lastState = ["terminated": ["exitCode": 1, "reason": "Error", "startedAt": time, "finishedAt": time]]
        case .waiting(let reason, let message):
            phase = "Pending"
            started = false
            address = nil
            containerState = ["waiting": ["reason": reason, "message": message]]
        case .exit(let code, let log):
            try writeLog(log, pod: name, containers: containers)
            phase = code == 0 ? "Succeeded" : "Failed"
            started = false
            containerState = [
                "terminated": ["exitCode": code, "reason": code == 0 ? "Completed" : "Error", "startedAt": time, "finishedAt": time]
            ]
        }
        var status: [String: Any] = [
            "phase": phase, "hostIP": PodNetwork.nodeAddress, "hostIPs": [["ip": PodNetwork.nodeAddress]], "startTime": time,
            "qosClass": "Burstable",
            "conditions": [
                ["type": "PodScheduled", "status": "True", "lastTransitionTime": time],
                ["type": "Initialized", "status": "True", "lastTransitionTime": time],
                ["type": "ContainersReady", "status": ready ? "True" : "False", "lastTransitionTime": time],
                ["type": "Ready", "status": ready ? "True" : "False", "lastTransitionTime": time],
            ],
            "containerStatuses": containers.map { container -> [String: Any] in
                [
                    "name": container["name"] as? String ?? "", "image": image, "imageID": image, "ready": ready,
                    "restartCount": restarts, "started": started, "state": containerState, "lastState": lastState,
                ]
            },
        ]
        if let address {
            status["podIP"] = address
            status["podIPs"] = [["ip": address]]
        }
        return (status, behaviorKey)
    }

    private func writeLog(_ lines: [String], pod: String, containers: [[String: Any]]) throws {
        for container in containers {
            try network.writeLog(namespace: namespace, pod: pod, container: container["name"] as? String ?? "", lines: lines)
        }
    }

    static func now() -> String {
        Date().formatted(.iso8601)
    }

    static func json(_ object: [String: Any]) throws -> ByteBuffer {
        ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object))
    }
}
