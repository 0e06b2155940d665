import AsyncHTTPClient
import Foundation
import NIOCore

/// One line of a watch stream: `{"type":"ADDED|MODIFIED|DELETED|BOOKMARK|ERROR","object":{…}}`.
struct WatchEvent: @unchecked Sendable {
    var type: String
    var object: [String: Any]
}

extension KubernetesClient {
    /// Lists a collection and then watches it from the list's resourceVersion, calling `handle`
    /// with the listed objects and then with every event until it returns true (done) or the
    /// deadline passes (false). A stream that ends, or a 410 Gone (an ERROR event or the watch
    /// request's own status), starts over with a new list.
    func listAndWatch(
        _ collection: String, query: String, until deadline: ContinuousClock.Instant,
        handle: ([String: Any]) async throws -> Bool
    ) async throws -> Bool {
        while ContinuousClock.now < deadline {
            try Task.checkCancellation()
            let separator = query.isEmpty ? "" : "&"
            let listed = try await send(.GET, collection + "?" + query)
            guard listed.status == .ok, let list = listed.json else { throw failure(listed, verb: "list", resource: collection) }
            for item in list["items"] as? [[String: Any]] ?? [] where try await handle(item) { return true }
            let version = (list["metadata"] as? [String: Any])?["resourceVersion"] as? String ?? "0"
            let seconds = max(Int((deadline - ContinuousClock.now).components.seconds), 1)
            let path =
                "\(collection)?\(query)\(separator)watch=1&resourceVersion=\(version)&timeoutSeconds=\(seconds)&allowWatchBookmarks=true"
            if try await stream(path, deadline: deadline, handle: handle) { return true }
        }
        return false
    }

    /// Reads one watch stream; true when `handle` said done. The stream is read in a child task
    /// that is cancelled as soon as the answer is known, which closes the connection: left alone,
    /// the server would hold the watch (and the process its connection) until `timeoutSeconds`.
    private func stream(
        _ path: String, deadline: ContinuousClock.Instant, handle: ([String: Any]) async throws -> Bool
    ) async throws -> Bool {
        let (events, continuation) = AsyncThrowingStream<WatchEvent, Error>.makeStream()
        let reader = Task { [self] in
            do {
                try await readEvents(path, deadline: deadline, into: continuation)
                continuation.finish()
            } catch {
                continuation.finish(throwing: error)
            }
        }
        defer { reader.cancel() }
        do {
            for try await event in events {
                if event.type == "ERROR" { return false }  // 410 Gone and the like: list again
                if event.type == "BOOKMARK" { continue }
                if try await handle(event.object) { return true }
            }
        } catch let error as KubernetesError {
            throw error
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            try Task.checkCancellation()
            return false
        }
        return false
    }

    private func readEvents(
        _ path: String, deadline: ContinuousClock.Instant, into continuation: AsyncThrowingStream<WatchEvent, Error>.Continuation
    ) async throws {
        var request = try await authorizedRequest(path)
        request.method = .GET
        let remaining = deadline - ContinuousClock.now
        let response = try await rawClient.execute(
            request, timeout: .milliseconds(Int64(max(remaining.components.seconds, 1) * 1000 + 5000)))
        guard response.status == .ok else {
            // The resourceVersion was compacted away; usually said by an ERROR event, sometimes so.
            if response.status == .gone { return }
            if RetryPolicy.isTransient(response.status) {
                try await Task.sleep(for: .milliseconds(200))
                return
            }
            let body = try await response.body.collect(upTo: 1 << 20)
            throw failure(Response(status: response.status, body: body), verb: "watch", resource: path)
        }
        var pending: [UInt8] = []
        for try await chunk in response.body {
            pending += chunk.readableBytesView
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                if let event = Self.event(line) { continuation.yield(event) }
            }
            if ContinuousClock.now >= deadline { return }
        }
    }

    static func event(_ line: [UInt8]) -> WatchEvent? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any], let type = object["type"] as? String
        else { return nil }
        return WatchEvent(type: type, object: object["object"] as? [String: Any] ?? [:])
    }
}
