import Foundation
import Manifests

/// apply, rollback, releases and status of a fleet-style target (local, Fly), as the commands
/// print them: the targets differ in their platform and lock, not in these.
struct FleetCommands {
    let spec: EnvironmentSpec
    let platform: any FleetPlatform

    private func deployer(gates: ReleaseGates = .none) -> Deployer {
        Deployer(platform: platform, progress: Progress.reporter(), actor: DeployOptions.actor, gates: gates)
    }

    func plan(desired: DesiredState) async throws -> Plan {
        PlanBuilder.plan(environment: spec.name, target: platform.targetName, desired: desired, live: try await platform.observe())
    }

    func apply(_ plan: Plan, gates: ReleaseGates) async throws -> TargetReport {
        let release = try await deployer(gates: gates).apply(plan)
        let instances = try await platform.fleet.instances()
        return TargetReport(
            text: "\(spec.name): \(release.name) is live on \(instances.count) instance(s): "
                + instances.map(\.address).joined(separator: " "),
            json: try JSONCoding.encode(ReleaseReport(release: release, instances: instances)))
    }

    func rollback(to release: String?) async throws -> TargetReport {
        var chosen: ReleaseRecord?
        if let release {
            let id = try ReleaseNumber.parse(release)
            let releases = try await platform.history.all()
            guard let found = releases.first(where: { $0.id == id }) else {
                let known = releases.map(\.name).joined(separator: ", ")
                throw DeployFailure(
                    kind: .invalid, message: "\(spec.name) has no release \(release); it has: \(known.isEmpty ? "none" : known)")
            }
            if found.outcome != .succeeded {
                Terminal.error("note: \(found.name) never succeeded (it \(found.outcome.rawValue)); rolling back to it as asked")
            }
            chosen = found
        }
        let live = try await deployer().rollback(to: chosen)
        let instances = try await platform.fleet.instances()
        return TargetReport(
            text: "\(spec.name): \(live.name) (\(live.message ?? "rollback")) is live on \(instances.count) instance(s)",
            json: try JSONCoding.encode(ReleaseReport(release: live, instances: instances)))
    }

    func currentRelease() async throws -> ReleaseSummary? {
        try await platform.history.current()?.summary
    }

    func record(on summary: ReleaseSummary, verification: VerificationRecord?, origin: PromotionOrigin?, failed: String?) async throws {
        guard var release = try await platform.history.all().first(where: { $0.id == summary.id }) else {
            throw DeployFailure(kind: .invalid, message: "\(spec.name) no longer has \(summary.name) in its history")
        }
        release.verification = verification ?? release.verification
        release.promotedFrom = origin ?? release.promotedFrom
        if let failed {
            release.outcome = .failed
            release.message = failed
        }
        try await platform.history.save(release)
    }

    func releases() async throws -> TargetReport {
        let releases = try await platform.history.all()
        let current = try await platform.history.current()
        let json = try JSONCoding.encode(ReleaseHistoryReport(current: current?.id, releases: releases))
        guard !releases.isEmpty else {
            return TargetReport(text: "\(spec.name) has no releases yet; `orchestrate apply \(spec.name)` makes the first.", json: json)
        }
        var rows = [["", "RELEASE", "OUTCOME", "IMAGE", "SPEC", "CREATED", "BY", "NOTE"]]
        for release in releases.reversed() {
            rows.append([
                release.id == current?.id ? "*" : "", release.name, release.outcome.rawValue,
                Table.short(release.configuration.artifact.digest), Table.short(release.configuration.specHash),
                Timestamps.iso8601(release.createdAt), release.createdBy, release.message ?? "",
            ])
        }
        return TargetReport(text: Table.render(rows), json: json)
    }

    func status() async throws -> TargetReport {
        let live = try await platform.observe()
        let release = live.current.map { "\($0.name) (\(Table.short($0.configuration.artifact.digest)))" } ?? "none"
        var lines = ["\(spec.name) on \(platform.targetName): current release \(release)"]
        for component in live.components {
            lines.append("  \(component.name): \(component.present ? "up" : "down") — \(component.detail)")
        }
        let images = live.instances.contains { $0.image != nil }
        var rows = [["INSTANCE", "RELEASE", "STATE", "HEALTH", "RESTARTS", "ADDRESS"] + (images ? ["IMAGE"] : [])]
        for instance in live.instances {
            let health = instance.healthy.map { $0 ? "healthy" : "unhealthy" } ?? "-"
            rows.append(
                [instance.name, "v\(instance.releaseID)", instance.state.rawValue, health, String(instance.restarts), instance.address]
                    + (images ? [instance.image.map(Table.short) ?? "-"] : []))
        }
        lines.append(live.instances.isEmpty ? "  no instances" : Table.render(rows))
        return TargetReport(text: lines.joined(separator: "\n"), json: try JSONCoding.encode(live))
    }
}

struct ReleaseReport: Codable {
    var release: ReleaseRecord
    var instances: [InstanceStatus]
}

struct ReleaseHistoryReport: Codable {
    var current: Int?
    var releases: [ReleaseRecord]
}
