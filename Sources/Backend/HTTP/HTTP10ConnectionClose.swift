import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1

/// Says `Connection: close` for an HTTP/1.0 request that did not ask to keep the connection
/// (RFC 9112 §9.3). Hummingbird sees requests as swift-http-types values, which carry no HTTP
/// version, and closes only on that header; without it an HTTP/1.0 client reading until the
/// connection ends waited for the idle timeout.
final class HTTP10ConnectionClose: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), head.version == .http1_0, !head.isKeepAlive else {
            context.fireChannelRead(data)
            return
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }

    /// Hummingbird adds the handlers it is given after the conversion to swift-http-types, where
    /// the version is gone; this one has to sit before it.
    static func install(in pipeline: ChannelPipeline.SynchronousOperations) throws {
        let conversion = try pipeline.context(handlerType: HTTP1ToHTTPServerCodec.self)
        try pipeline.addHandler(HTTP10ConnectionClose(), position: .before(conversion.handler))
    }
}
