import Hummingbird
import Logging
import NIOCore

/// Per-request state: the request id every log line and error carries, and who is signed in.
struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    var coreContext: CoreRequestContextStorage
    var requestID = ""
    var userID: String?
    let remoteAddress: SocketAddress?

    init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress
    }

    /// The signed-in user, or a 401 for routes that need one.
    func requireUser() throws -> String {
        guard let userID else { throw APIError(.unauthorized, code: "unauthenticated", "sign in: send `Authorization: Bearer <token>`") }
        return userID
    }
}
