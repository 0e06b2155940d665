import NIOCore

extension Duration {
    /// Whole milliseconds, as Redis commands (BLOCK, XAUTOCLAIM) take them.
    var wholeMilliseconds: Int {
        Int(components.seconds) * 1000 + Int(components.attoseconds / 1_000_000_000_000_000)
    }

    /// Fractional milliseconds, for logs and health reports.
    var milliseconds: Double {
        Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
    }

    /// The same span as a NIO `TimeAmount`, for event-loop timers.
    var timeAmount: TimeAmount {
        .nanoseconds(components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000)
    }
}
