import Foundation
import Hummingbird

/// An error a client can act on: a status, a stable code and a sentence about what is wrong.
struct APIError: Error, HTTPResponseError {
    var status: HTTPResponse.Status
    var code: String
    var message: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, code: String, _ message: String, headers: HTTPFields = [:]) {
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let requestID = (context as? AppRequestContext)?.requestID ?? ""
        return Self.jsonResponse(status: status, code: code, message: message, requestID: requestID, headers: headers)
    }

    static func jsonResponse(status: HTTPResponse.Status, code: String, message: String, requestID: String, headers: HTTPFields = [:])
        -> Response
    {
        struct Body: Encodable {
            struct Detail: Encodable {
                var code: String
                var message: String
                var requestId: String
            }
            var error: Detail
        }
        let data = (try? JSONEncoder().encode(Body(error: .init(code: code, message: message, requestId: requestID)))) ?? Data()
        var fields = headers
        fields[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }

    static func notFound(_ what: String) -> APIError { APIError(.notFound, code: "not_found", "\(what) was not found") }
    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, code: "invalid_request", message) }
}
