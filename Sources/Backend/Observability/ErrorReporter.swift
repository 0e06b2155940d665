import AsyncHTTPClient
import Foundation
import Hummingbird
import Logging
import NIOCore

/// A Sentry DSN: `https://PUBLIC_KEY@HOST[:PORT]/PROJECT_ID`.
struct SentryDSN: Sendable {
    var publicKey: String
    var envelopeURL: String

    init?(_ text: String) {
        guard let components = URLComponents(string: text), let scheme = components.scheme, ["http", "https"].contains(scheme),
            let host = components.host, let key = components.user, !key.isEmpty
        else { return nil }
        let project = components.path.split(separator: "/").last.map(String.init) ?? ""
        guard !project.isEmpty, project.allSatisfy(\.isNumber) else { return nil }
        let port = components.port.map { ":\($0)" } ?? ""
        publicKey = key
        envelopeURL = "\(scheme)://\(host)\(port)/api/\(project)/envelope/"
    }
}

/// Reports unhandled errors to Sentry's envelope endpoint: the error's type and message, the
/// request id and user id, method and path. Never headers, bodies, query strings or secrets.
struct ErrorReporter: Sendable {
    let dsn: SentryDSN
    let environment: String
    let release: String
    let httpClient: HTTPClient
    let logger: Logger

    func report(_ error: Error, request: Request, requestID: String, userID: String?) async {
        let eventID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        let event: [String: Any] = [
            "event_id": eventID,
            "timestamp": Date().timeIntervalSince1970,
            "platform": "other",
            "level": "error",
            "environment": environment,
            "release": release,
            "exception": ["values": [["type": String(reflecting: type(of: error)), "value": Self.safeMessage(error)]]],
            "tags": ["request_id": requestID],
            "user": userID.map { ["id": $0] } ?? [:],
            "request": ["method": request.method.rawValue, "url": request.uri.path],
        ]
        guard let eventData = try? JSONSerialization.data(withJSONObject: event, options: [.sortedKeys]),
            let header = try? JSONSerialization.data(withJSONObject: [
                "event_id": eventID, "sent_at": ISO8601DateFormatter().string(from: Date()),
            ]),
            let itemHeader = try? JSONSerialization.data(withJSONObject: ["type": "event", "length": eventData.count])
        else { return }
        var body = Data()
        for part in [header, itemHeader, eventData] {
            body.append(part)
            body.append(UInt8(ascii: "\n"))
        }
        var outgoing = HTTPClientRequest(url: dsn.envelopeURL)
        outgoing.method = .POST
        outgoing.headers.add(name: "Content-Type", value: "application/x-sentry-envelope")
        outgoing.headers.add(
            name: "X-Sentry-Auth", value: "Sentry sentry_version=7, sentry_key=\(dsn.publicKey), sentry_client=pet-backend/1.0")
        outgoing.body = .bytes(ByteBuffer(data: body))
        do {
            let response = try await httpClient.execute(outgoing, timeout: .seconds(3))
            if response.status.code >= 300 {
                logger.warning("Sentry refused an error report", metadata: ["status": "\(response.status.code)"])
            }
        } catch {
            logger.warning("cannot reach Sentry", metadata: ["error": "\(error)"])
        }
    }

    /// The error's own description, cut short; errors here never carry secret values.
    static func safeMessage(_ error: Error) -> String {
        String(String(describing: error).prefix(500))
    }
}
