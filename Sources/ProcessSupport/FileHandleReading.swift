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
        while true {
            let chunk = try readSomeRetryingInterrupts()
            if chunk.isEmpty { return data }
            data.append(chunk)
        }
    }

    /// What one read(2) returns, waiting until something comes; empty at end of file. For
    /// `availableData`, which traps on a read error as `readDataToEndOfFile` does.
    public func readSomeRetryingInterrupts() throws -> Data {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = Glibc.read(fileDescriptor, &chunk, chunk.count)
            if count >= 0 { return Data(chunk[0..<count]) }
            if errno != EINTR { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        }
    }
}
