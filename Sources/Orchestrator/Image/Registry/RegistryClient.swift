import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The OCI Distribution API as a real registry (Distribution 2.8) accepts it: anonymous, basic
/// or bearer-token auth, retries with backoff on 429, 5xx and dropped connections.
actor RegistryClient {
    struct Credentials: Sendable {
        var username: String
        var password: String
    }

    let reference: RegistryReference
    let credentials: Credentials?
    private let http: HTTPClient
    private var authorization: String?
    private let retry = RetryPolicy.standard

    init(reference: RegistryReference, credentials: Credentials?, http: HTTPClient = .shared) {
        self.reference = reference
        self.credentials = credentials
        self.http = http
    }

    struct Response: Sendable {
        var status: HTTPResponseStatus
        var headers: HTTPHeaders
        var body: ByteBuffer
    }

    /// Sends a request, authenticating once on 401 and retrying transient failures.
    func send(
        _ method: HTTPMethod, _ pathOrURL: String, headers: [(String, String)] = [], body: ByteBuffer? = nil,
        limit: Int = 16 << 20
    ) async throws -> Response {
        let url = pathOrURL.hasPrefix("http") ? pathOrURL : reference.baseURL + pathOrURL
        var attempt = 0
        var authenticated = authorization != nil
        while true {
            attempt += 1
            var request = HTTPClientRequest(url: url)
            request.method = method
            for (name, value) in headers { request.headers.add(name: name, value: value) }
            if let authorization { request.headers.replaceOrAdd(name: "Authorization", value: authorization) }
            if let body {
                request.body = .bytes(body)
                request.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes))
            }
            do {
                let response = try await http.execute(request, timeout: .seconds(300))
                let collected = try await response.body.collect(upTo: limit)
                if response.status == .unauthorized, !authenticated {
                    authenticated = true
                    try await authenticate(challenge: response.headers.first(name: "WWW-Authenticate"))
                    continue
                }
                if RetryPolicy.isTransient(response.status), retry.allowsAnother(after: attempt) {
                    try await Task.sleep(for: retry.delay(after: attempt, retryAfter: response.headers.first(name: "Retry-After")))
                    continue
                }
                return Response(status: response.status, headers: response.headers, body: collected)
            } catch let error as HTTPClientError where retry.allowsAnother(after: attempt) {
                _ = error
                try await Task.sleep(for: retry.delay(after: attempt))
            } catch let error as ChannelError where retry.allowsAnother(after: attempt) {
                _ = error
                try await Task.sleep(for: retry.delay(after: attempt))
            }
        }
    }

    /// `Basic` uses the credentials as they are; `Bearer` trades them at the realm for a token
    /// scoped to push and pull this repository.
    private func authenticate(challenge: String?) async throws {
        guard let challenge else { throw ImageError("\(reference.host) answered 401 without saying how to authenticate") }
        let scheme = challenge.split(separator: " ").first.map { $0.lowercased() } ?? ""
        let basic = credentials.map { "Basic " + Data("\($0.username):\($0.password)".utf8).base64EncodedString() }
        switch scheme {
        case "basic":
            guard let basic else {
                throw ImageError("\(reference.host) needs a username and password: pass --username and set REGISTRY_PASSWORD")
            }
            authorization = basic
        case "bearer":
            let parameters = Self.parameters(of: challenge)
            guard let realm = parameters["realm"], var components = URLComponents(string: realm) else {
                throw ImageError("\(reference.host) asked for a bearer token without a realm")
            }
            var query = components.queryItems ?? []
            if let service = parameters["service"] { query.append(URLQueryItem(name: "service", value: service)) }
            query.append(URLQueryItem(name: "scope", value: "repository:\(reference.repository):push,pull"))
            components.queryItems = query
            var request = HTTPClientRequest(url: components.string ?? realm)
            if let basic { request.headers.add(name: "Authorization", value: basic) }
            let response = try await http.execute(request, timeout: .seconds(60))
            let body = try await response.body.collect(upTo: 1 << 20)
            guard response.status == .ok else {
                throw ImageError(
                    "the token service \(realm) refused the request: HTTP \(response.status.code); check --username and REGISTRY_PASSWORD")
            }
            struct TokenAnswer: Decodable {
                var token: String?
                var accessToken: String?

                enum CodingKeys: String, CodingKey {
                    case token
                    case accessToken = "access_token"
                }
            }
            let answer = try JSONDecoder().decode(TokenAnswer.self, from: Data(body.readableBytesView))
            guard let token = answer.token ?? answer.accessToken else { throw ImageError("the token service \(realm) returned no token") }
            authorization = "Bearer " + token
        default:
            throw ImageError("\(reference.host) asks for \(scheme) authentication, which orchestrate does not speak")
        }
    }

    /// `Bearer realm="https://auth",service="registry",scope="…"` → its key/value pairs.
    static func parameters(of challenge: String) -> [String: String] {
        var result: [String: String] = [:]
        let pattern = #"([A-Za-z]+)="([^"]*)""#
        guard let expression = try? NSRegularExpression(pattern: pattern) else { return result }
        let range = NSRange(challenge.startIndex..., in: challenge)
        for match in expression.matches(in: challenge, range: range) {
            if let key = Range(match.range(at: 1), in: challenge), let value = Range(match.range(at: 2), in: challenge) {
                result[String(challenge[key]).lowercased()] = String(challenge[value])
            }
        }
        return result
    }

    /// The registry's own words for an error: `{"errors":[{"code":…,"message":…}]}`.
    static func describe(_ response: Response, doing action: String) -> ImageError {
        struct Errors: Decodable {
            struct Entry: Decodable {
                var code: String
                var message: String?
            }
            var errors: [Entry]
        }
        let detail =
            (try? JSONDecoder().decode(Errors.self, from: Data(response.body.readableBytesView)))?.errors.map {
                "\($0.code): \($0.message ?? "")"
            }.joined(separator: "; ") ?? String(buffer: response.body).prefix(300).description
        return ImageError("\(action) failed: HTTP \(response.status.code) \(detail)")
    }
}
