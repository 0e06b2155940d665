import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `GET /healthz` inside the connection's channel pipeline, before Hummingbird builds a
/// request, a context and a task for it: the probe platforms send most often costs the least.
/// It answers only when no earlier request on the connection is still waiting for its response
/// (HTTP/1.1 pipelining); otherwise the probe goes to Hummingbird and is answered in order.
final class LivenessProbeHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var answering = false
    /// Requests passed on whose response has not ended yet.
    private var outstanding = 0

    static let response: HTTPResponse = {
        var response = HTTPResponse(status: .ok)
        response.headerFields[.contentType] = "application/json"
        response.headerFields[.contentLength] = "15"
        response.headerFields[.cacheControl] = "no-store"
        return response
    }()
    static let body = ByteBuffer(string: "{\"status\":\"ok\"}")

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let request):
            // `Connection: close` and anything but a plain GET of the exact path go the long way,
            // so connection handling stays Hummingbird's.
            answering = outstanding == 0 && request.method == .get && request.path == "/healthz" && request.headerFields[.connection] == nil
            if !answering {
                outstanding += 1
                context.fireChannelRead(data)
            }
        case .body:
            if !answering { context.fireChannelRead(data) }
        case .end:
            guard answering else {
                context.fireChannelRead(data)
                return
            }
            answering = false
            context.write(wrapOutboundOut(.head(Self.response)), promise: nil)
            context.write(wrapOutboundOut(.body(Self.body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { outstanding = max(0, outstanding - 1) }
        context.write(data, promise: promise)
    }
}
