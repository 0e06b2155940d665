import Foundation

#if canImport(Glibc)
    import Glibc
#endif

extension FileHandle {
    /// Everything up to end of file, by read(2) retrying EINTR. Foundation's
    /// `readDataToEndOfFile` traps on any read error (a `try!` inside): EINTR killed a whole
    /// fault-matrix run once its child processes came and went fast, and standard input that is
    /// a folder (`< somewhere/`) is EISDIR. Other errors are thrown.
    public func readAllRetryingInterrupts() throws -> Data {
        var data = Data()
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = try read(into: &chunk)
            if count == 0 { return data }
            data.append(contentsOf: chunk[0..<count])
        }
    }

    /// What one read(2) returns, waiting until something comes; empty at end of file. For
    /// `availableData`, which traps on a read error as `readDataToEndOfFile` does.
    public func readSomeRetryingInterrupts() throws -> Data {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = try read(into: &chunk)
        return Data(chunk[0..<count])
    }

    private func read(into buffer: inout [UInt8]) throws -> Int {
        while true {
            let count = Glibc.read(fileDescriptor, &buffer, buffer.count)
            if count >= 0 { return count }
            if errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }
}
