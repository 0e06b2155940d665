import Testing

@testable import Manifests

@Suite struct DocumentTests {
    @Test func tomlRoundTripsTrickyValues() throws {
        let value: ManifestValue = [
            "app": "pet \"backend\"\\\n\ttab",
            "unicode": "héllo ☃",
            "count": 3,
            "ratio": 0.25,
            "whole": 2.0,
            "on": true,
            "list": ["a", "b"],
            "dotted.key": "quoted key",
            "inline": ["nested": ["x": 1]],
            "servers": [["name": "a", "port": 1], ["name": "b", "port": 2]],
        ]
        let text = TOMLWriter.write(value)
        #expect(try TOMLReader.parse(text, file: "t.toml") == value)
        #expect(text.contains("\"dotted.key\" = \"quoted key\""))
        #expect(text.contains("[[servers]]"))
        #expect(text.contains("whole = 2.0"))
    }

    @Test func tomlReaderHandlesTheFormsConfigFilesUse() throws {
        let text = """
            # comment
            app = 'literal \\n stays'
            big = 1_000
            hex = 0xff
            [http_service]
              ports = [
                80, # http
                443,
              ]
              concurrency = { type = "requests", hard_limit = 25 }
            [[http_service.checks]]
              path = "/healthz"
            [[http_service.checks]]
              path = "/ready"
            [a.b]
            c.d = true

            """
        let value = try TOMLReader.parse(text, file: "fly.toml")
        #expect(value["app"] == "literal \\n stays")
        #expect(value["big"] == 1000)
        #expect(value["hex"] == 255)
        #expect(value[path: "http_service", "ports"] == [80, 443])
        #expect(value[path: "http_service", "concurrency", "hard_limit"] == 25)
        #expect(value[path: "http_service", "checks"] == [["path": "/healthz"], ["path": "/ready"]])
        #expect(value[path: "a", "b", "c", "d"] == true)
    }

    @Test func tomlErrorsCarryTheLine() {
        do {
            _ = try TOMLReader.parse("a = 1\n[t]\nb = \"open\n", file: "fly.toml")
            Issue.record("an unclosed string was accepted")
        } catch {
            #expect(error.location?.line == 3)
            #expect(error.message == "invalid TOML: a string is not closed before the end of the line")
        }
        do {
            _ = try TOMLReader.parse("a = 1\na = 2\n", file: "fly.toml")
            Issue.record("a duplicate key was accepted")
        } catch {
            #expect(error.message == "invalid TOML: the key `a` is defined twice")
        }
    }

    @Test func yamlQuotesStringsThatWouldReadAsOtherTypes() throws {
        let text = try YAMLDocument.write(["port": "3001", "flag": "yes", "empty": "", "real": 3001, "name": "pet-backend"])
        #expect(text == "port: \"3001\"\nflag: \"yes\"\nempty: \"\"\nreal: 3001\nname: pet-backend\n")
    }

    /// A key only the overlay has lands just before the first shared key after it in the overlay.
    @Test func overlayMergesMapsAndNamedListsAndRemovesNulls() {
        let template: ManifestValue = [
            "kind": "Deployment",
            "spec": [
                "paused": false,
                "containers": [["name": "backend", "image": "old", "args": ["--keep"]], ["name": "sidecar", "image": "proxy"]],
            ],
        ]
        let overlay: ManifestValue = [
            "apiVersion": "apps/v1",
            "spec": ["paused": .null, "containers": [["name": "backend", "image": "new"]]],
        ]
        let merged = template.merging(overlay)
        #expect(
            merged == [
                "kind": "Deployment",
                "apiVersion": "apps/v1",
                "spec": [
                    "containers": [["name": "backend", "image": "new", "args": ["--keep"]], ["name": "sidecar", "image": "proxy"]]
                ],
            ])
    }

    @Test func specMergeReplacesListsAndScalarsAndNullRemoves() throws {
        let base = try YAMLSpecParser.parse("a: { b: 1, c: [1, 2], d: x }\nkeep: 1\n", file: "base.yaml")
        let override = try YAMLSpecParser.parse("a: { c: [3], d: null }\nnew: 2\n", file: "env.yaml")
        let merged = override.merged(over: base)
        #expect(merged.canonicalText == "{\"a\":{\"b\":1,\"c\":[3]},\"keep\":1,\"new\":2}")
        #expect(merged.entry("a")?.value.entry("b")?.value.location.file == "base.yaml")
        #expect(merged.entry("a")?.value.entry("c")?.value.location.file == "env.yaml")
    }
}
