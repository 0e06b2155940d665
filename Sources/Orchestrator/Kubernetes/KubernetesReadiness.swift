import Foundation

/// "Done? Successful? What is it waiting for?" for the kinds a rollout waits on, as pure
/// functions of the objects the API returns (kapp's per-kind rules and `kubectl rollout status`
/// are the model). A verdict is read from the object as it is now, for the generation it
/// describes: a condition the controller wrote about an earlier generation says nothing.
enum Readiness: Equatable, Sendable {
    case done
    case waiting(String)
    case failed(String)
}

enum KubernetesReadiness {
    /// Container waiting reasons that will not fix themselves: fail at once instead of waiting
    /// for a deadline.
    static let failFastReasons: Set<String> = [
        "CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName", "CreateContainerConfigError",
        "CreateContainerError", "RunContainerError",
    ]

    /// `currentReplicaSet`: the ReplicaSet of the Deployment's current revision, when known. The
    /// controller keeps a `ProgressDeadlineExceeded` until it sees progress, so after a rollback
    /// the condition may still speak of the ReplicaSet that failed; it counts only when it names
    /// the current one.
    static func deployment(_ object: [String: Any], currentReplicaSet: String? = nil) -> Readiness {
        guard isObserved(object) else {
            let generation = Field.int(object, "metadata", "generation") ?? 0
            let observed = Field.int(object, "status", "observedGeneration") ?? 0
            return .waiting("the controller has not yet seen generation \(generation) (it reports \(observed))")
        }
        if let stalled = Field.conditions(object).first(where: {
            $0["type"] as? String == "Progressing" && $0["status"] as? String == "False"
        }) {
            let reason = stalled["reason"] as? String ?? "not progressing"
            let message = stalled["message"] as? String ?? ""
            if let named = replicaSet(namedIn: message), let currentReplicaSet, named != currentReplicaSet {
                return .waiting("the controller's last verdict is about ReplicaSet \(named), not the current \(currentReplicaSet)")
            }
            return .failed("\(reason): \(message)")
        }
        let wanted = Field.int(object, "spec", "replicas") ?? 1
        let updated = Field.int(object, "status", "updatedReplicas") ?? 0
        let total = Field.int(object, "status", "replicas") ?? 0
        let available = Field.int(object, "status", "availableReplicas") ?? 0
        if updated < wanted { return .waiting("\(updated) of \(wanted) updated") }
        if total > updated { return .waiting("\(total - updated) old replica(s) still running") }
        if available < updated { return .waiting("\(available) of \(updated) updated available") }
        return .done
    }

    /// The pods that failed start-up, with why and the ReplicaSet they belong to. Pods being
    /// deleted are not a verdict: their replacement is.
    static func failedPods(_ pods: [[String: Any]]) -> [(name: String, why: String, replicaSet: String?)] {
        pods.compactMap { pod in
            guard let name = Field.string(pod, "metadata", "name"), Field.string(pod, "metadata", "deletionTimestamp") == nil,
                case .failed(let why) = self.pod(pod)
            else { return nil }
            return (name, why, owningReplicaSet(of: pod))
        }
    }

    static func owningReplicaSet(of pod: [String: Any]) -> String? {
        Field.owners(pod).first { $0["kind"] as? String == "ReplicaSet" }?["name"] as? String
    }

    /// Whether the controller has seen the object's latest spec: before, its status and the
    /// annotations it writes still describe the spec before.
    static func isObserved(_ object: [String: Any]) -> Bool {
        (Field.int(object, "status", "observedGeneration") ?? 0) >= (Field.int(object, "metadata", "generation") ?? 0)
    }

    /// `ReplicaSet "pet-backend-7d9c" has timed out progressing.` → `pet-backend-7d9c`.
    static func replicaSet(namedIn message: String) -> String? {
        guard let start = message.range(of: "ReplicaSet \""), let end = message[start.upperBound...].firstIndex(of: "\"") else {
            return nil
        }
        return String(message[start.upperBound..<end])
    }

    static func job(_ object: [String: Any]) -> Readiness {
        for condition in Field.conditions(object) where condition["status"] as? String == "True" {
            switch condition["type"] as? String {
            case "Complete": return .done
            case "Failed":
                let reason = condition["reason"] as? String ?? "Failed"
                let message = condition["message"] as? String ?? ""
                return .failed(message.isEmpty ? reason : "\(reason): \(message)")
            default: continue
            }
        }
        let active = Field.int(object, "status", "active") ?? 0
        return .waiting(active > 0 ? "running" : "waiting for its pod")
    }

    /// A serving pod (a Job's pod when `runsToCompletion`).
    static func pod(_ object: [String: Any], runsToCompletion: Bool = false) -> Readiness {
        let statuses = Field.map(object, "status")?["containerStatuses"] as? [[String: Any]] ?? []
        for status in statuses {
            if let reason = Field.string(status, "state", "waiting", "reason"), failFastReasons.contains(reason) {
                let message = Field.string(status, "state", "waiting", "message") ?? ""
                return .failed(message.isEmpty ? reason : "\(reason): \(message)")
            }
        }
        let phase = Field.string(object, "status", "phase") ?? "Pending"
        if runsToCompletion {
            if phase == "Succeeded" { return .done }
            if phase == "Failed" { return .failed("exited \(exitCodes(statuses))") }
            return .waiting(phase)
        }
        if phase == "Failed" || phase == "Succeeded" { return .failed("the pod ended (\(phase), exit \(exitCodes(statuses)))") }
        let ready = Field.conditions(object).first { $0["type"] as? String == "Ready" }
        if ready?["status"] as? String == "True" { return .done }
        if let waiting = statuses.compactMap({ Field.string($0, "state", "waiting", "reason") }).first {
            return .waiting(waiting)
        }
        if phase == "Pending" { return .waiting("Pending" + (Field.string(object, "spec", "nodeName") == nil ? ", not scheduled" : "")) }
        return .waiting("running, not Ready" + ((ready?["reason"] as? String).map { " (\($0))" } ?? ""))
    }

    private static func exitCodes(_ statuses: [[String: Any]]) -> String {
        let codes = statuses.compactMap { Field.int($0, "state", "terminated", "exitCode") }
        return codes.isEmpty ? "?" : codes.map(String.init).joined(separator: ", ")
    }
}
