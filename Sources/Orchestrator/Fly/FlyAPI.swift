import AsyncHTTPClient
import FlyMachinesAPI
import Foundation
import HTTPTypes
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime
import Synchronization

typealias Machine = Components.Schemas.Machine
typealias MachineConfig = Components.Schemas.fly_period_MachineConfig

/// An answer from Fly that is not the one asked for, with what Fly said about it.
struct FlyAPIError: Error, CustomStringConvertible {
    var operation: String
    var status: Int
    var message: String
    var requestID: String?

    var description: String {
        "Fly answered \(status) to \(operation): \(message)" + (requestID.map { " (fly-request-id \($0))" } ?? "")
    }
}

/// The generated Machines API client for one app, with the calls orchestrate makes, each either
/// returning what it asked for or throwing `FlyAPIError`.
struct FlyAPI: Sendable {
    let app: String
    let client: Client
    let nonces: FlyLeaseNonces
    /// What one run asks again and again and only it changes (whether the app exists, the
    /// secrets' names and digests): asked once, which keeps a run far from the rate limits.
    private let remembered = FlyRemembered()

    /// How long one call may take before it is retried (a wait is asked to return sooner).
    let requestTimeout: Duration

    /// More tries than the other clients: a Fly deploy makes hundreds of calls, and a run that
    /// gives up half-way costs more than one that waits a little longer.
    static let retries = RetryPolicy(attempts: 8, base: .milliseconds(200), maximum: .seconds(10))

    init(app: String, host: String, token: String, requestTimeout: Duration = .seconds(75), retry: RetryPolicy = retries) throws {
        guard let url = URL(string: host.hasSuffix("/") ? host + "v1" : host + "/v1") else {
            throw DeployFailure(kind: .invalid, message: "the Fly API host `\(host)` is not a URL")
        }
        self.app = app
        self.requestTimeout = requestTimeout
        nonces = FlyLeaseNonces()
        // Ordered outside in: pacing before each attempt, so retries are paced too.
        client = Client(
            serverURL: url, configuration: .init(dateTranscoder: .iso8601),
            transport: AsyncHTTPClientTransport(
                configuration: .init(client: .shared, timeout: .milliseconds(Int64(requestTimeout.components.seconds * 1000)))),
            middlewares: [FlyAuthorization(token: token), FlyRetries(policy: retry), FlyPacing(), nonces, FlyAnswerFixes()])
    }

    // MARK: apps

    /// Whether the app exists (a token that cannot see it sees none).
    func appExists() async throws -> Bool {
        if let known = remembered.appExists.withLock({ $0 }) { return known }
        switch try await client.Apps_show(path: .init(app_name: app)) {
        case .ok:
            remembered.appExists.withLock { $0 = true }
            return true
        case .undocumented(404, _): return false
        case .undocumented(let status, let payload): throw await Self.failure("Apps_show", status, payload)
        }
    }

    /// Creates the app; one whose answer was lost and is there now counts as created.
    func createApp(org: String) async throws {
        let policy = RetryPolicy.standard
        var attempt = 1
        while true {
            let failure: FlyAPIError
            do {
                switch try await client.Apps_create(body: .json(.init(name: app, org_slug: org))) {
                case .created:
                    remembered.appExists.withLock { $0 = true }
                    return
                case .badRequest(let answer):
                    failure = FlyAPIError(operation: "Apps_create", status: 400, message: (try? answer.body.json.error) ?? "bad request")
                case .undocumented(let status, let payload): failure = await Self.failure("Apps_create", status, payload)
                }
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                failure = FlyAPIError(operation: "Apps_create", status: 503, message: "\(error)")
            }
            if try await appExists() { return }
            guard RetryPolicy.isTransient(.init(statusCode: failure.status)), policy.allowsAnother(after: attempt) else { throw failure }
            try await Task.sleep(for: policy.delay(after: attempt))
            attempt += 1
        }
    }

    // MARK: machines

    func machines() async throws -> [Machine] {
        switch try await client.Machines_list(path: .init(app_name: app)) {
        case .ok(let answer): return try answer.body.json
        case .undocumented(let status, let payload): throw await Self.failure("Machines_list", status, payload)
        }
    }

    /// nil when the machine does not exist.
    func machine(_ id: String) async throws -> Machine? {
        switch try await client.Machines_show(path: .init(app_name: app, machine_id: id)) {
        case .ok(let answer): return try answer.body.json
        case .undocumented(404, _): return nil
        case .undocumented(let status, let payload): throw await Self.failure("Machines_show", status, payload)
        }
    }

    func create(_ request: Components.Schemas.CreateMachineRequest) async throws -> Machine {
        switch try await client.Machines_create(path: .init(app_name: app), body: .json(request)) {
        case .ok(let answer): return try answer.body.json
        case .undocumented(let status, let payload): throw await Self.failure("Machines_create", status, payload)
        }
    }

    /// Creates a machine exactly once: after an answer that never came, or a failure that may
    /// have come after the machine was made, it looks for the machine by a token in its metadata
    /// before creating again.
    func createOnce(_ request: Components.Schemas.CreateMachineRequest) async throws -> Machine {
        let token = UUID().uuidString.lowercased()
        var request = request
        request.config?.value1.metadata?.additionalProperties[FlyMachineConfig.createKey] = token
        let policy = RetryPolicy.standard
        var attempt = 1
        while true {
            do {
                return try await create(request)
            } catch let error as FlyAPIError where !RetryPolicy.isTransient(.init(statusCode: error.status)) {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                if let made = try await machines().first(where: {
                    $0.config?.metadata?.additionalProperties[FlyMachineConfig.createKey] == token
                }) {
                    return made
                }
                guard policy.allowsAnother(after: attempt) else { throw error }
                try await Task.sleep(for: policy.delay(after: attempt))
                attempt += 1
            }
        }
    }

    func update(_ id: String, _ request: Components.Schemas.UpdateMachineRequest) async throws -> Machine {
        switch try await client.Machines_update(path: .init(app_name: app, machine_id: id), body: .json(request)) {
        case .ok(let answer): return try answer.body.json
        case .badRequest(let answer):
            throw FlyAPIError(operation: "Machines_update", status: 400, message: (try? answer.body.json.error) ?? "bad request")
        case .undocumented(let status, let payload): throw await Self.failure("Machines_update", status, payload)
        }
    }

    /// Destroys the machine, stopping it first if it runs; a machine already gone is not an error.
    func destroy(_ id: String) async throws {
        switch try await client.Machines_delete(path: .init(app_name: app, machine_id: id), query: .init(force: true)) {
        case .ok, .undocumented(404, _): return
        case .undocumented(let status, let payload): throw await Self.failure("Machines_delete", status, payload)
        }
    }

    func stop(_ id: String) async throws {
        switch try await client.Machines_stop(path: .init(app_name: app, machine_id: id), body: .json(.init())) {
        case .ok: return
        case .badRequest(let answer):
            throw FlyAPIError(operation: "Machines_stop", status: 400, message: (try? answer.body.json.error) ?? "bad request")
        case .undocumented(let status, let payload): throw await Self.failure("Machines_stop", status, payload)
        }
    }

    /// Waits up to `timeoutSeconds` (at most 60, Fly's limit) for the machine's `version` to reach
    /// `state`; false when it did not in that time.
    func wait(
        _ id: String, version: String?, state: Operations.Machines_wait.Input.Query.statePayload, timeoutSeconds: Int
    ) async throws -> Bool {
        // Fly holds a wait up to 60 s; it must answer before this client gives up on the call.
        let limit = min(60, Int(requestTimeout.components.seconds) - 1)
        let query = Operations.Machines_wait.Input.Query(version: version, timeout: max(min(timeoutSeconds, limit), 1), state: state)
        switch try await client.Machines_wait(path: .init(app_name: app, machine_id: id), query: query) {
        case .ok(let answer): return (try? answer.body.json.ok) ?? true
        case .undocumented(408, _): return false
        case .badRequest(let answer):
            throw FlyAPIError(operation: "Machines_wait", status: 400, message: (try? answer.body.json.error) ?? "bad request")
        case .undocumented(let status, let payload): throw await Self.failure("Machines_wait", status, payload)
        }
    }

    func events(_ id: String) async throws -> [Components.Schemas.MachineEvent] {
        switch try await client.Machines_list_events(path: .init(app_name: app, machine_id: id), query: .init(limit: 50)) {
        case .ok(let answer): return try answer.body.json
        case .undocumented(404, _): return []
        case .undocumented(let status, let payload): throw await Self.failure("Machines_list_events", status, payload)
        }
    }

    func upsertMetadata(_ id: String, key: String, value: String) async throws {
        switch try await client.Machines_upsert_metadata(
            path: .init(app_name: app, machine_id: id, key: key), body: .json(.init(value: value)))
        {
        case .noContent: return
        case .badRequest(let answer):
            throw FlyAPIError(operation: "Machines_upsert_metadata", status: 400, message: (try? answer.body.json.error) ?? "bad request")
        case .undocumented(let status, let payload): throw await Self.failure("Machines_upsert_metadata", status, payload)
        }
    }

    func deleteMetadata(_ id: String, key: String) async throws {
        switch try await client.Machines_delete_metadata(path: .init(app_name: app, machine_id: id, key: key)) {
        case .noContent, .undocumented(404, _): return
        case .undocumented(let status, let payload): throw await Self.failure("Machines_delete_metadata", status, payload)
        }
    }

    // MARK: leases

    enum LeaseAnswer {
        case acquired(Components.Schemas.Lease)
        /// Someone holds it: who and until when, as Fly said.
        case held(String)
    }

    func acquireLease(_ id: String, ttlSeconds: Int, description: String, refreshing nonce: String? = nil) async throws -> LeaseAnswer {
        let output = try await client.Machines_create_lease(
            path: .init(app_name: app, machine_id: id), headers: .init(fly_hyphen_machine_hyphen_lease_hyphen_nonce: nonce),
            body: .json(.init(description: description, ttl: ttlSeconds)))
        switch output {
        case .created(let answer): return .acquired(try answer.body.json)
        case .undocumented(409, let payload):
            return .held(await Self.failure("Machines_create_lease", 409, payload).message)
        case .undocumented(let status, let payload): throw await Self.failure("Machines_create_lease", status, payload)
        }
    }

    func lease(_ id: String) async throws -> Components.Schemas.Lease? {
        switch try await client.Machines_show_lease(path: .init(app_name: app, machine_id: id)) {
        case .ok(let answer): return try answer.body.json
        case .undocumented(404, _): return nil
        case .undocumented(let status, let payload): throw await Self.failure("Machines_show_lease", status, payload)
        }
    }

    func releaseLease(_ id: String, nonce: String) async throws {
        switch try await client.Machines_release_lease(
            path: .init(app_name: app, machine_id: id), headers: .init(fly_hyphen_machine_hyphen_lease_hyphen_nonce: nonce))
        {
        case .ok, .undocumented(404, _): return
        case .undocumented(let status, let payload): throw await Self.failure("Machines_release_lease", status, payload)
        }
    }

    // MARK: secrets

    func secrets() async throws -> [Components.Schemas.AppSecret] {
        if let known = remembered.secrets.withLock({ $0 }) { return known }
        switch try await client.Secrets_list(path: .init(app_name: app)) {
        case .ok(let answer):
            let secrets = try answer.body.json.secrets ?? []
            remembered.secrets.withLock { $0 = secrets }
            return secrets
        case .undocumented(let status, let payload): throw await Self.failure("Secrets_list", status, payload)
        }
    }

    /// Sets the values and returns the app's new secrets version.
    func setSecrets(_ values: [String: String]) async throws -> Int? {
        remembered.secrets.withLock { $0 = nil }
        switch try await client.Secrets_update(path: .init(app_name: app), body: .json(.init(values: .init(additionalProperties: values))))
        {
        case .ok(let answer):
            let body = try answer.body.json
            return body.version ?? body.Version
        case .badRequest(let answer):
            throw FlyAPIError(operation: "Secrets_update", status: 400, message: (try? answer.body.json.error) ?? "bad request")
        case .undocumented(let status, let payload): throw await Self.failure("Secrets_update", status, payload)
        }
    }

    func deleteSecret(_ name: String) async throws {
        remembered.secrets.withLock { $0 = nil }
        switch try await client.Secret_delete(path: .init(app_name: app, secret_name: name)) {
        case .ok, .undocumented(404, _): return
        case .undocumented(let status, let payload): throw await Self.failure("Secret_delete", status, payload)
        }
    }

    func regions() async throws -> [String] {
        switch try await client.Platform_regions_get() {
        case .ok(let answer): return (try answer.body.json.regions ?? []).compactMap(\.code)
        case .undocumented(let status, let payload): throw await Self.failure("Platform_regions_get", status, payload)
        }
    }

    /// Fly's error body (`{"error": "…"}`) when there is one, else the start of the body.
    static func failure(_ operation: String, _ status: Int, _ payload: UndocumentedPayload) async -> FlyAPIError {
        var message = "HTTP \(status)"
        if let body = payload.body, let bytes = try? await Data(collecting: body, upTo: 64 * 1024) {
            if let decoded = try? JSONDecoder().decode(Components.Schemas.ErrorResponse.self, from: bytes), let error = decoded.error {
                message = error
            } else if !bytes.isEmpty {
                message = String(decoding: bytes.prefix(300), as: UTF8.self)
            }
        }
        return FlyAPIError(operation: operation, status: status, message: message, requestID: payload.headerFields[.flyRequestID])
    }
}

final class FlyRemembered: Sendable {
    let appExists = Mutex<Bool?>(nil)
    let secrets = Mutex<[Components.Schemas.AppSecret]?>(nil)
}
