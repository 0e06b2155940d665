import Foundation

/// Releases as `releases/N.json`, the current one named in `current.json`.
struct LocalReleaseHistory: ReleaseHistory {
    let paths: LocalPaths

    private struct Pointer: Codable {
        var release: Int
    }

    func all() throws -> [ReleaseRecord] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: paths.releases)) ?? []
        return try names.filter { $0.hasSuffix(".json") }.map {
            try JSONCoding.decode(ReleaseRecord.self, fromFile: "\(paths.releases)/\($0)")
        }.sorted { $0.id < $1.id }
    }

    func save(_ release: ReleaseRecord) throws {
        try FileManager.default.createDirectory(atPath: paths.releases, withIntermediateDirectories: true)
        try JSONCoding.write(release, toFile: paths.release(release.id))
    }

    func current() throws -> ReleaseRecord? {
        guard FileManager.default.fileExists(atPath: paths.current) else { return nil }
        let pointer = try JSONCoding.decode(Pointer.self, fromFile: paths.current)
        return try JSONCoding.decode(ReleaseRecord.self, fromFile: paths.release(pointer.release))
    }

    func setCurrent(_ release: ReleaseRecord) throws {
        try JSONCoding.write(Pointer(release: release.id), toFile: paths.current)
    }
}
