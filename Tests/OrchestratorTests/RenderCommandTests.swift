import Foundation
import Testing

@Suite struct RenderCommandTests {
    @Test func renderWritesEveryFileAndIsRepeatable() throws {
        let project = try ScratchProject(environments: [:])
        let out = project.path + "/out"
        let first = try CommandRunner.run([
            "render", "prod", "--out", out, "--image", "r.example/pet@sha256:" + String(repeating: "0", count: 64),
        ])
        #expect(first.status == 0, "stderr: \(first.stderr)")
        let written = first.stdout.split(separator: "\n").map { String($0.dropFirst(out.count + 1)) }
        #expect(
            written == [
                "fly.toml", "kubernetes/00-namespace.yaml", "kubernetes/01-configmap.yaml", "kubernetes/02-migration-job.yaml",
                "kubernetes/03-deployment.yaml", "kubernetes/04-service.yaml", "kubernetes/05-hpa.yaml", "kubernetes/06-pdb.yaml",
                "kubernetes/07-backup-cronjob.yaml", "redis.conf", "postgres/primary.sql", "postgres/replica.sql",
            ])
        let before = written.map { project.contents(of: "out/\($0)") }
        let second = try CommandRunner.run([
            "render", "prod", "--out", out, "--image", "r.example/pet@sha256:" + String(repeating: "0", count: 64),
        ])
        #expect(second.status == 0)
        #expect(written.map { project.contents(of: "out/\($0)") } == before)
        #expect(project.contents(of: "out/kubernetes/03-deployment.yaml")?.contains("image: r.example/pet@sha256:000") == true)
    }

    @Test func renderReplacesFilesAnEarlierRenderLeft() throws {
        let project = try ScratchProject(environments: [:])
        let out = project.path + "/out"
        try FileManager.default.createDirectory(atPath: out + "/kubernetes", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: out + "/postgres", withIntermediateDirectories: true)
        let earlier = "# Rendered by orchestrate from environments/dev.yaml; do not edit.\nkind: HorizontalPodAutoscaler\n"
        try Data(earlier.utf8).write(to: URL(fileURLWithPath: out + "/kubernetes/05-hpa.yaml"))
        // Files orchestrate did not write stay, whatever their names.
        try Data("kind: NetworkPolicy\n".utf8).write(to: URL(fileURLWithPath: out + "/kubernetes/90-network-policy.yaml"))
        try Data("-- a team's own tuning\n".utf8).write(to: URL(fileURLWithPath: out + "/postgres/replica.sql"))
        let outcome = try CommandRunner.run(["render", "dev", "--out", out])
        #expect(outcome.status == 0)
        #expect(project.contents(of: "out/kubernetes/05-hpa.yaml") == nil)
        #expect(project.contents(of: "out/kubernetes/90-network-policy.yaml") == "kind: NetworkPolicy\n")
        #expect(project.contents(of: "out/postgres/replica.sql") == "-- a team's own tuning\n")
    }

    @Test func kubernetesTargetPrintsOneYamlStream() throws {
        let outcome = try CommandRunner.run(["render", "staging", "--target", "kubernetes"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout.components(separatedBy: "\n---\n").count == 8)
        #expect(!outcome.stdout.contains("[http_service]") && !outcome.stdout.contains("ALTER SYSTEM"))
    }

    @Test func missingTargetIsRefused() throws {
        let outcome = try CommandRunner.run(["render", "dev", "--target", "fly"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("dev has no `targets.fly` in environments/dev.yaml"))
        #expect(outcome.stdout.isEmpty)
    }

    @Test func invalidSpecRendersNothing() throws {
        let project = try ScratchProject(environments: ["broken.yaml": "app: {}\n"])
        let outcome = try CommandRunner.run(["render", "broken", "--out", project.path + "/out"], in: project.path)
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("environments/broken.yaml is not valid; nothing was rendered."))
        #expect(!FileManager.default.fileExists(atPath: project.path + "/out"))
    }
}

@Suite struct SavedPlanFileTests {
    @Test func aCorruptPlanFileIsRefusedNotTakenForAnEnvironment() throws {
        let project = try ScratchProject(environments: [:])
        let cut = project.path + "/prod.plan.json"
        try Data(#"{"environment": "prod", "plan": {"changes": ["#.utf8).write(to: URL(fileURLWithPath: cut))
        let outcome = try CommandRunner.run(["apply", cut, "--yes"], in: project.path)
        #expect(outcome.status == 1, "\(outcome.stderr)")
        #expect(
            outcome.stderr.contains("\(cut) is not a plan saved by `orchestrate plan --out`: it is not complete JSON"), "\(outcome.stderr)")

        let other = project.path + "/notes.json"
        try Data(#"{"release": 3}"#.utf8).write(to: URL(fileURLWithPath: other))
        let wrong = try CommandRunner.run(["apply", other, "--yes"], in: project.path)
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("it has no `plan`"), "\(wrong.stderr)")
    }
}
