/// ustar headers for a reproducible layer: no timestamps (mtime 0), owner 0:0 unless given, no
/// user or group names, fixed modes. The caller writes the entries in sorted order.
enum TarHeader {
    enum Kind: UInt8 {
        case file = 0x30  // "0"
        case symlink = 0x32  // "2"
        case directory = 0x35  // "5"
    }

    static func make(path: String, kind: Kind, size: Int, mode: Int, owner: Int = 0, linkTarget: String = "") throws -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        let (prefix, name) = try split(kind == .directory ? path + "/" : path)
        put(name, at: 0, width: 100, in: &header)
        put(octal(mode, width: 8), at: 100, width: 8, in: &header)
        put(octal(owner, width: 8), at: 108, width: 8, in: &header)
        put(octal(owner, width: 8), at: 116, width: 8, in: &header)
        put(octal(size, width: 12), at: 124, width: 12, in: &header)
        put(octal(0, width: 12), at: 136, width: 12, in: &header)
        header[156] = kind.rawValue
        put(linkTarget, at: 157, width: 100, in: &header)
        put("ustar\u{0}00", at: 257, width: 8, in: &header)
        put(prefix, at: 345, width: 155, in: &header)
        // The checksum is computed with its own field as spaces.
        for index in 148..<156 { header[index] = 0x20 }
        let checksum = header.reduce(0) { $0 + Int($1) }
        put(octal(checksum, width: 7), at: 148, width: 7, in: &header)
        header[155] = 0x20
        return header
    }

    /// Zero bytes that pad an entry's data to a whole 512-byte block.
    static func padding(after size: Int) -> [UInt8] {
        [UInt8](repeating: 0, count: (512 - size % 512) % 512)
    }

    /// Two zero blocks end an archive.
    static let end = [UInt8](repeating: 0, count: 1024)

    private static func split(_ path: String) throws -> (prefix: String, name: String) {
        if path.utf8.count <= 100 { return ("", path) }
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        for cut in (1..<parts.count).reversed() {
            let prefix = parts[..<cut].joined(separator: "/")
            let name = parts[cut...].joined(separator: "/")
            if prefix.utf8.count <= 155 && name.utf8.count <= 100 && !name.isEmpty { return (prefix, name) }
        }
        throw ImageError("the path \(path) is too long for a tar header")
    }

    private static func octal(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(width - 1 - digits.count, 0)) + digits
    }

    private static func put(_ text: String, at offset: Int, width: Int, in header: inout [UInt8]) {
        for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
    }
}
