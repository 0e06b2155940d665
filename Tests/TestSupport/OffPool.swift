import Foundation

/// Blocking work (starting a server and waiting for its port, running a script to its end) on a
/// thread of its own: on the two threads of a two-core machine's cooperative pool it would stall
/// every other test meanwhile (an in-process fake server once took over 20 s to bind that way).
public enum OffPool {
    public static func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }
}
