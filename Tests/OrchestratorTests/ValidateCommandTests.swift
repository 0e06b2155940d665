import Foundation
import Testing

@testable import Orchestrator

@Suite struct ValidateCommandTests {
    @Test func versionIsPrinted() throws {
        let outcome = try CommandRunner.run(["--version"])
        #expect(outcome.status == 0)
        #expect(outcome.stdout == Orchestrate.version + "\n")
    }

    @Test func shippedEnvironmentsAreValid() throws {
        let outcome = try CommandRunner.run(["validate"])
        #expect(outcome.status == 0, "stderr: \(outcome.stderr)")
        let lines = outcome.stdout.split(separator: "\n")
        #expect(lines.count == 4)
        #expect(lines.allSatisfy { $0.hasPrefix("ok    ") })
        #expect(lines.contains { $0.hasPrefix("ok    prod: production, 2–10 instances, pool 2–17, 187/190 DB connections at peak") })
    }

    @Test func badSpecExitsOneWithFileLineAndFix() throws {
        let project = try ScratchProject(environments: [
            "prod.yaml": try String(contentsOfFile: CommandRunner.repositoryRoot + "/environments/prod.yaml", encoding: .utf8)
                .replacingOccurrences(of: "    max: 17\n", with: "    max: 50\n"),
            "base.yaml": try String(contentsOfFile: CommandRunner.repositoryRoot + "/environments/base.yaml", encoding: .utf8),
        ])
        let outcome = try CommandRunner.run(["validate", "prod"], in: project.path)
        #expect(outcome.status == 1)
        #expect(outcome.stdout == "FAIL  prod: 1 error in environments/prod.yaml\n")
        #expect(outcome.stderr.contains("environments/prod.yaml:"))
        #expect(outcome.stderr.contains("error: database.pool.max: connection budget exceeded on the primary"))
        #expect(outcome.stderr.contains("× database.pool.max 50 = 550 connections, but the primary allows 190"))
        #expect(outcome.stderr.contains("  fix: lower database.pool.max to 17 or less"))
    }

    @Test func jsonOutputNamesEveryErrorWithItsLocation() throws {
        let project = try ScratchProject(environments: [
            "base.yaml": try String(contentsOfFile: CommandRunner.repositoryRoot + "/environments/base.yaml", encoding: .utf8),
            "dev.yaml": "extends: base\napp:\n  prot: 3001\nredis:\n  maxMemory: 1Gi\n",
        ])
        let outcome = try CommandRunner.run(["validate", "dev", "--json"], in: project.path)
        #expect(outcome.status == 1)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(outcome.stdout.utf8)) as? [String: Any])
        #expect(json["valid"] as? Bool == false)
        let environments = try #require(json["environments"] as? [[String: Any]])
        let errors = try #require(environments.first?["errors"] as? [[String: Any]])
        let summary = errors.map { error -> String in
            let location = error["location"] as? [String: Any]
            return "\(location?["line"] ?? "?"):\(location?["column"] ?? "?") \(error["path"] ?? "") \(error["fix"] ?? "")"
        }
        #expect(summary == ["3:3 app.prot did you mean `port`?", "5:14 redis.maxMemory write 1gb"])
    }

    @Test func unknownEnvironmentIsAClearError() throws {
        let outcome = try CommandRunner.run(["validate", "qa"])
        #expect(outcome.status == 1)
        #expect(outcome.stderr.contains("cannot read environments/qa.yaml: no such file"))
    }
}
