import Backups
import Foundation
import ProcessSupport

/// The base layer of the image, taken from this machine (no base image can be pulled here): the
/// shared libraries the binary links (as `ldd` resolves them, at the same paths, so its RUNPATH
/// and interpreter still resolve), CA certificates, zoneinfo, and a non-root user.
enum RuntimeFiles {
    static let user = (name: "app", id: 10001)

    static func entries(for binary: String) async throws -> [LayerEntry] {
        let tools = postgresClientTools()
        var libraries = Set(try await sharedLibraries(of: binary))
        for tool in tools { libraries.formUnion(try await sharedLibraries(of: tool)) }
        var entries = libraries.sorted().map { library in
            LayerEntry(path: String(library.dropFirst()), content: .file(source: resolved(library)), mode: 0o755)
        }
        entries += tools.map { LayerEntry(path: String($0.dropFirst()), content: .file(source: resolved($0)), mode: 0o755) }
        entries += [
            LayerEntry(
                path: "etc/passwd",
                content: .bytes(
                    Array(
                        "root:x:0:0:root:/root:/usr/sbin/nologin\n\(user.name):x:\(user.id):\(user.id):pet-backend:/home/\(user.name):/usr/sbin/nologin\n"
                            .utf8)),
                mode: 0o644),
            LayerEntry(path: "etc/group", content: .bytes(Array("root:x:0:\n\(user.name):x:\(user.id):\n".utf8)), mode: 0o644),
            LayerEntry(
                path: "etc/nsswitch.conf", content: .bytes(Array("hosts: files dns\npasswd: files\ngroup: files\n".utf8)), mode: 0o644),
            LayerEntry(path: "home/\(user.name)", content: .directory, mode: 0o755, owner: user.id),
            LayerEntry(path: "tmp", content: .directory, mode: 0o1777),
        ]
        let certificates = "/etc/ssl/certs/ca-certificates.crt"
        if FileManager.default.fileExists(atPath: certificates) {
            entries.append(LayerEntry(path: String(certificates.dropFirst()), content: .file(source: resolved(certificates)), mode: 0o644))
        }
        entries += zoneinfo()
        return entries
    }

    /// pg_dump, pg_restore and psql of the newest PostgreSQL here, at the same paths, for
    /// `pet-backend backup` (the scheduled backup runs the service's own image); none when
    /// PostgreSQL is not installed, and the backup then says so.
    static func postgresClientTools() -> [String] {
        guard let bin = PostgresTools.newestPackagedBinaries() else { return [] }
        return ["pg_dump", "pg_restore", "psql"].map { "\(bin)/\($0)" }.filter { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Absolute paths of every shared library `ldd` reports, the dynamic loader included.
    static func sharedLibraries(of binary: String) async throws -> [String] {
        let output = NSTemporaryDirectory() + "orchestrate-ldd-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: output) }
        let status = try await ProcessLauncher.run(
            "/usr/bin/ldd", arguments: [binary], environment: ["PATH": "/usr/bin:/bin"], logPath: output, timeout: .seconds(60))
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        if text.contains("not a dynamic executable") { return [] }
        guard status == 0 else { throw ImageError("ldd \(binary) failed: \(text.prefix(500))") }
        var libraries: [String] = []
        for line in text.split(separator: "\n") {
            if line.contains("=> not found") {
                throw ImageError("\(binary) needs \(line.split(separator: " ").first ?? "a library"), which is not installed here")
            }
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            if let arrow = words.firstIndex(of: "=>"), arrow + 1 < words.count, words[arrow + 1].hasPrefix("/") {
                libraries.append(String(words[arrow + 1]))
            } else if let first = words.first, first.hasPrefix("/") {
                libraries.append(String(first))
            }
        }
        return Array(Set(libraries)).sorted()
    }

    /// The time zone database without its `right/` and `posix/` duplicates.
    static func zoneinfo() -> [LayerEntry] {
        let root = "/usr/share/zoneinfo"
        guard let walker = FileManager.default.enumerator(atPath: root) else { return [] }
        var entries: [LayerEntry] = []
        while let relative = walker.nextObject() as? String {
            if relative.hasPrefix("right") || relative.hasPrefix("posix") {
                walker.skipDescendants()
                continue
            }
            let full = root + "/" + relative
            let path = String(full.dropFirst())
            let type = (try? FileManager.default.attributesOfItem(atPath: full))?[.type] as? FileAttributeType
            if type == .typeSymbolicLink, let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                entries.append(LayerEntry(path: path, content: .symlink(to: target), mode: 0o777))
            } else if type == .typeDirectory {
                entries.append(LayerEntry(path: path, content: .directory, mode: 0o755))
            } else if type == .typeRegular {
                entries.append(LayerEntry(path: path, content: .file(source: full), mode: 0o644))
            }
        }
        return entries
    }

    static func resolved(_ path: String) -> String {
        URL(fileURLWithPath: path).resolvingSymlinksInPath().path
    }
}
