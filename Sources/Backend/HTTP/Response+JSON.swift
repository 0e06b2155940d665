import Hummingbird
import NIOCore

extension Response {
    /// A JSON response from bytes already encoded (a cached design, a constant acknowledgement).
    static func json(bytes: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: bytes))
    }

    /// A JSON response encoded with the API's encoder (ISO 8601 dates, sorted keys).
    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) throws -> Response {
        json(bytes: ByteBuffer(data: try APIJSON.encoder.encode(value)), status: status)
    }
}
