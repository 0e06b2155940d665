import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOFoundationCompat
import NIOHTTP1

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Where backups live: an S3-compatible bucket, addressed path-style (`ENDPOINT/BUCKET/KEY`),
/// which AWS, MinIO, Ceph, R2 and moto all accept.
public struct BucketLocation: Sendable, Equatable {
    public var endpoint: URL
    public var bucket: String
    public var region: String

    public init(endpoint: URL, bucket: String, region: String) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
    }

    public var description: String { "s3://\(bucket) at \(endpoint.absoluteString)" }
}

public struct ObjectStoreError: Error, CustomStringConvertible {
    public var description: String
    public var status: Int?

    init(_ description: String, status: Int? = nil) {
        self.description = description
        self.status = status
    }
}

/// One object as a listing shows it.
public struct StoredObject: Sendable, Equatable {
    public var key: String
    public var size: Int64
    public var lastModified: Date?
}

/// The few S3 calls backups need, signed with SigV4 over AsyncHTTPClient. Bodies stream from and
/// to files, so a dump of any size passes through in fixed memory.
public struct ObjectStore: Sendable {
    public let location: BucketLocation
    let signature: S3Signature
    let timeout: TimeAmount

    public init(location: BucketLocation, credentials: S3Credentials, timeout: TimeAmount = .seconds(60)) {
        self.location = location
        self.signature = S3Signature(credentials: credentials, region: location.region)
        self.timeout = timeout
    }

    /// Uploads a file whose SHA-256 is known, so the store checks the bytes it received.
    public func put(_ key: String, file path: String, sha256: String, size: Int64, contentType: String = "application/octet-stream")
        async throws
    {
        let chunks = FileChunks(path: path)
        var request = try signedRequest(method: .PUT, key: key, payloadHash: sha256, headers: ["content-type": contentType])
        request.body = .stream(chunks, length: .known(size))
        try await expectSuccess(try await send(request), "PUT \(key)")
    }

    public func put(_ key: String, data: Data, contentType: String = "application/json") async throws {
        var request = try signedRequest(
            method: .PUT, key: key, payloadHash: SHA256.hash(data: data).hexString, headers: ["content-type": contentType])
        request.body = .bytes(ByteBuffer(bytes: data))
        try await expectSuccess(try await send(request), "PUT \(key)")
    }

    /// The whole object, for small ones (manifests); nil when it does not exist.
    public func get(_ key: String, limit: Int = 1 << 20) async throws -> Data? {
        let response = try await send(try signedRequest(method: .GET, key: key))
        if response.status == .notFound { return nil }
        try await expectSuccess(response, "GET \(key)")
        return Data(buffer: try await response.body.collect(upTo: limit))
    }

    /// Streams an object into a file and returns the SHA-256 and size of what arrived.
    public func download(_ key: String, to path: String) async throws -> (sha256: String, size: Int64) {
        let response = try await send(try signedRequest(method: .GET, key: key), timeout: .hours(6))
        if response.status == .notFound { throw ObjectStoreError("\(key) is not in \(location.description)", status: 404) }
        try await expectSuccess(response, "GET \(key)")
        guard FileManager.default.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]),
            let handle = FileHandle(forWritingAtPath: path)
        else { throw ObjectStoreError("cannot write \(path)") }
        defer { try? handle.close() }
        var hash = SHA256()
        var size: Int64 = 0
        for try await buffer in response.body {
            let bytes = Data(buffer: buffer)
            hash.update(data: bytes)
            size += Int64(bytes.count)
            try handle.write(contentsOf: bytes)
        }
        return (hash.finalize().hexString, size)
    }

    public func delete(_ key: String) async throws {
        let response = try await send(try signedRequest(method: .DELETE, key: key))
        guard response.status == .noContent || response.status == .ok || response.status == .notFound else {
            try await expectSuccess(response, "DELETE \(key)")
            return
        }
    }

    /// Every object under `prefix`, following continuation tokens.
    public func list(prefix: String) async throws -> [StoredObject] {
        var objects: [StoredObject] = []
        var token: String?
        repeat {
            var query = [("list-type", "2"), ("prefix", prefix)]
            if let token { query.append(("continuation-token", token)) }
            let response = try await send(try signedRequest(method: .GET, key: nil, query: query))
            try await expectSuccess(response, "LIST \(prefix)")
            let page = ListingParser.parse(Data(buffer: try await response.body.collect(upTo: 16 << 20)))
            objects += page.objects
            token = page.nextToken
        } while token != nil
        return objects
    }

    /// Whether the bucket answers to these credentials at all: the check made before a release.
    public func checkReachable() async throws {
        let response = try await send(try signedRequest(method: .HEAD, key: nil), timeout: .seconds(15))
        try await expectSuccess(response, "HEAD bucket")
    }

    // MARK: requests

    private func signedRequest(
        method: HTTPMethod, key: String?, query: [(String, String)] = [], payloadHash: String = S3Signature.emptyPayloadHash,
        headers: [String: String] = [:]
    ) throws -> HTTPClientRequest {
        let base =
            location.endpoint.absoluteString.hasSuffix("/")
            ? String(location.endpoint.absoluteString.dropLast()) : location.endpoint.absoluteString
        let basePath = location.endpoint.path == "/" ? "" : location.endpoint.path
        let objectPath = "/" + S3Signature.encode(location.bucket) + (key.map { "/" + S3Signature.encode($0, keepingSlash: true) } ?? "")
        guard let host = location.endpoint.host else { throw ObjectStoreError("the endpoint \(location.endpoint) names no host") }
        let hostHeader = location.endpoint.port.map { "\(host):\($0)" } ?? host
        let signed = signature.headers(
            method: method.rawValue, host: hostHeader, path: basePath + objectPath, query: query, headers: headers, payloadHash: payloadHash
        )
        let queryText = query.map { "\(S3Signature.encode($0.0))=\(S3Signature.encode($0.1))" }.joined(separator: "&")
        var request = HTTPClientRequest(url: base + objectPath + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = method
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        return request
    }

    private func send(_ request: HTTPClientRequest, timeout: TimeAmount? = nil) async throws -> HTTPClientResponse {
        do {
            return try await HTTPClient.shared.execute(request, timeout: timeout ?? self.timeout)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Refused, reset, timed out, a TLS failure: said with the store's address.
            throw ObjectStoreError("\(location.description) did not answer: \(error)")
        }
    }

    private func expectSuccess(_ response: HTTPClientResponse, _ what: String) async throws {
        guard !(200..<300).contains(response.status.code) else { return }
        let body = (try? await response.body.collect(upTo: 64 << 10)).map { String(buffer: $0) } ?? ""
        let code = ListingParser.errorCode(in: body)
        throw ObjectStoreError(
            "\(what) in \(location.description) answered \(response.status.code)\(code.map { " \($0)" } ?? "")",
            status: Int(response.status.code))
    }
}

/// A file read in 1 MiB buffers, as a request body.
struct FileChunks: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let path: String

    struct AsyncIterator: AsyncIteratorProtocol {
        let handle: FileHandle?
        mutating func next() async throws -> ByteBuffer? {
            guard let handle else { throw ObjectStoreError("cannot read the file to upload") }
            guard let data = try handle.read(upToCount: 1 << 20), !data.isEmpty else {
                try? handle.close()
                return nil
            }
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(handle: FileHandle(forReadingAtPath: path)) }
}
