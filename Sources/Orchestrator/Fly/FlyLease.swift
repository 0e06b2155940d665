import FlyMachinesAPI
import Foundation

/// A Fly machine lease held for the length of `body`: short (so a killed holder's lease expires
/// in seconds, not minutes), refreshed with its nonce while held, and always released, errors
/// and Ctrl-C included. The nonce goes with every call about the machine meanwhile.
struct FlyLease {
    let api: FlyAPI
    let machine: String
    let description: String
    var ttlSeconds = 30
    /// How long to keep asking while someone else holds it: long enough for the lease of a run
    /// that died (30 s at most) to expire, and for one this run took whose answer was lost to be
    /// found again.
    var patience: Duration = .seconds(35)

    /// Someone else's lease: who holds it and until when, as Fly said.
    struct Held: Error, CustomStringConvertible {
        var machine: String
        var holder: String
        var expires: Date?

        var description: String {
            let until = expires.map { " until \(Timestamps.iso8601($0)) (it expires by itself unless its holder refreshes it)" } ?? ""
            return "machine \(machine) is leased by \(holder)\(until)"
        }
    }

    /// Names this run in its leases, so that a lease whose answer was lost is known as its own.
    static let run = String(UUID().uuidString.lowercased().prefix(8))
    private var fullDescription: String { "\(description) [run \(Self.run)]" }

    func holding<Value: Sendable>(_ body: () async throws -> Value) async throws -> Value {
        let nonce = try await acquire()
        api.nonces.set(nonce, machine: machine)
        let refresher = Task { [api, machine, fullDescription, ttlSeconds] in
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(max(ttlSeconds / 3, 1)))
                if Task.isCancelled { break }
                _ = try? await api.acquireLease(machine, ttlSeconds: ttlSeconds, description: fullDescription, refreshing: nonce)
            }
        }
        func release() async {
            refresher.cancel()
            api.nonces.set(nil, machine: machine)
            // Released even when the run was cancelled: a lease left behind blocks the next run.
            await Task.detached { [api, machine] in try? await api.releaseLease(machine, nonce: nonce) }.value
        }
        do {
            let value = try await body()
            await release()
            return value
        } catch {
            await release()
            throw error
        }
    }

    private func acquire() async throws -> String {
        var deadline = ContinuousClock.now + patience
        var vanished = 0
        while true {
            let sent = ContinuousClock.now
            switch try await api.acquireLease(machine, ttlSeconds: ttlSeconds, description: fullDescription) {
            case .acquired(let lease):
                guard let nonce = lease.nonce else {
                    throw FlyAPIError(operation: "Machines_create_lease", status: 201, message: "the lease came back without a nonce")
                }
                return nonce
            case .held(let message):
                var lease: Components.Schemas.Lease?
                var lookupFailed = false
                do {
                    lease = try await api.lease(machine)
                } catch is CancellationError {
                    throw CancellationError()
                } catch {
                    lookupFailed = true
                }
                // A lease this run took whose answer was lost is its own.
                if let lease, lease.description == fullDescription, let nonce = lease.nonce { return nonce }
                // Gone by the time we looked: it expired or was released after the 409, so the
                // machine is free now, whatever patience is left (a slow 409 under load did this).
                if lease == nil, !lookupFailed, vanished < 3 {
                    vanished += 1
                    continue
                }
                // Fly shows nobody a lease's nonce, so a lease of ours whose answer was lost (a
                // call whose answer never came may have taken one) is waited out: nothing
                // refreshes it, and it ends at most a TTL after the last call that may have taken it.
                if lookupFailed || lease?.description == fullDescription {
                    deadline = max(deadline, sent + .seconds(ttlSeconds + 2))
                }
                let holder = lease?.description ?? lease?.owner ?? message
                let expires = lease?.expires_at.map { Date(timeIntervalSince1970: TimeInterval($0)) }
                guard ContinuousClock.now < deadline else { throw Held(machine: machine, holder: holder, expires: expires) }
                try await Task.sleep(for: .seconds(1))
            }
        }
    }
}
