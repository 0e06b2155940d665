import Testing

@testable import Manifests

@Suite struct UnitParsingTests {
    @Test(arguments: [("256Mi", Int64(256) << 20), ("2Gi", Int64(2) << 30), ("512M", 512_000_000), ("64Ki", 65_536)])
    func kubernetesMemory(text: String, bytes: Int64) throws {
        #expect(try ByteSize.parseKubernetes(text).get().bytes == bytes)
    }

    @Test func kubernetesMemoryPrintsTheLargestExactUnit() {
        #expect(ByteSize.gibibytes(8).kubernetesText == "8Gi")
        #expect(ByteSize.mebibytes(1536).kubernetesText == "1536Mi")
        #expect(ByteSize(bytes: 512_000_000).kubernetesText == "500000Ki")
    }

    @Test func postgresUnitsAreBinary() {
        #expect(ByteSize.gibibytes(2).postgresText == "2GB")
        #expect(ByteSize.mebibytes(512).postgresText == "512MB")
        #expect(ByteSize(bytes: 1536 << 10).postgresText == "1536kB")
    }

    @Test(arguments: [("2gb", Int64(2) << 30), ("256mb", Int64(256) << 20), ("1m", 1_000_000), ("100KB", 102_400)])
    func redisMemory(text: String, bytes: Int64) throws {
        #expect(try RedisMemory.parse(text).get().bytes == bytes)
    }

    @Test func redisMemoryKeepsItsSpellingInLowerCase() throws {
        #expect(try RedisMemory.parse("2GB").get().text == "2gb")
    }

    @Test(arguments: [("250m", 250), ("0.5", 500), ("2", 2000)])
    func cpu(text: String, millicores: Int) throws {
        #expect(try CPUQuantity.parse(text).get().millicores == millicores)
    }

    @Test func cpuFinerThanAMillicoreIsRefused() {
        #expect(throws: UnitError.self) { try CPUQuantity.parse("0.0005").get() }
    }

    @Test(arguments: [("200ms", Int64(200)), ("30s", 30_000), ("5m", 300_000), ("1h", 3_600_000), ("7d", 604_800_000)])
    func durations(text: String, milliseconds: Int64) throws {
        let duration = try SpecDuration.parse(text).get()
        #expect(duration.milliseconds == milliseconds)
        #expect(duration.description == text)
    }

    @Test func durationUnitTypoIsSuggested() {
        guard case .failure(let error) = SpecDuration.parse("30sec") else {
            Issue.record("30sec was accepted")
            return
        }
        #expect(error.message == "`30sec` has an unknown unit `sec` (did you mean 30s?)")
    }

    @Test func percentagesNeedTheirSign() throws {
        #expect(try Percentage.parse("70%").get().value == 70)
        #expect(try Percentage.parse("0.5%").get().fraction == 0.005)
        #expect(throws: UnitError.self) { try Percentage.parse("0.7").get() }
    }

    @Test func surgeRoundsUpAndUnavailableRoundsDownAsKubernetesDoes() {
        let quarter = InstanceCount.percent(Percentage(25))
        #expect(quarter.resolved(forTotal: 10, roundUp: true) == 3)
        #expect(quarter.resolved(forTotal: 10, roundUp: false) == 2)
    }

    @Test func suggestionsAllowSmallTyposOnly() {
        #expect(Suggestion.closest(to: "maxUnavailabel", in: ["maxUnavailable", "maxSurge"]) == "maxUnavailable")
        #expect(Suggestion.closest(to: "strategy", in: ["replicas"]) == nil)
        #expect(Suggestion.editDistance(Array("ab"), Array("ba")) == 1)
    }
}
