import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOHTTPTypes

/// A fault no handler can answer with: the connection reset before any answer, as a crashed
/// proxy or a dropped load balancer does. A responder that wants a reset answers with the status
/// `marker` (one no server sends); `server` carries a channel handler that drops that response
/// and resets the socket (SO_LINGER 0, so the peer reads ECONNRESET, not a clean end of stream).
package enum ConnectionReset {
    package static let marker = HTTPResponse.Status(code: 599, reasonPhrase: "Reset Before Answering")

    /// HTTP/1 with the handler that acts on `marker`.
    package static var server: HTTPServerBuilder {
        .http1(configuration: .init(additionalChannelHandlers: [ResetOnMarker()]))
    }

    final class ResetOnMarker: ChannelOutboundHandler, RemovableChannelHandler {
        typealias OutboundIn = HTTPResponsePart
        typealias OutboundOut = HTTPResponsePart
        private var resetting = false

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            let part = unwrapOutboundIn(data)
            if case .head(let head) = part, head.status == ConnectionReset.marker {
                resetting = true
                if let socket = context.channel as? any SocketOptionProvider {
                    _ = socket.setSoLinger(linger(l_onoff: 1, l_linger: 0))
                }
                context.close(mode: .all, promise: nil)
            }
            guard !resetting else {
                promise?.fail(ChannelError.ioOnClosedChannel)
                return
            }
            context.write(data, promise: promise)
        }
    }
}
