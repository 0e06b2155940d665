import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// One keep-alive HTTP/1.1 connection of the generator: one request at a time, its answer
/// reported to the run. Lives on the run's event loop only.
final class LoadConnection: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = HTTPClientRequestPart
    typealias OutboundOut = HTTPClientRequestPart

    struct Exchange {
        var number: Int
        var due: NIODeadline
        var dispatchedAt: NIODeadline
        var sentAt: NIODeadline
    }

    /// Which of the plan's endpoints it talks to.
    let endpoint: Int
    /// Held strongly (no weak load per answer): the run lets go of its connections when it
    /// finishes, and a closed channel lets go of its handler.
    private let run: LoadRun
    private var context: ChannelHandlerContext?
    private var status = 0
    private var keepAlive = true
    private(set) var exchange: Exchange?
    private(set) var closed = false

    init(endpoint: Int, run: LoadRun) {
        self.endpoint = endpoint
        self.run = run
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func send(_ head: HTTPRequestHead, number: Int, due: NIODeadline, dispatchedAt: NIODeadline) {
        guard let context else { return }
        exchange = Exchange(number: number, due: due, dispatchedAt: dispatchedAt, sentAt: .now())
        status = 0
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            keepAlive = head.isKeepAlive
        case .body:
            break
        case .end:
            guard let finished = exchange else { return }
            exchange = nil
            run.answered(finished, status: status, on: self, reusable: keepAlive)
            if !keepAlive { close() }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        lost(reason: LoadConnection.reason(for: error))
        close()
    }

    func channelInactive(context: ChannelHandlerContext) {
        lost(reason: "connection closed by the server")
        closed = true
        run.connectionClosed(self)
    }

    func close() {
        guard !closed else { return }
        closed = true
        context?.close(promise: nil)
    }

    /// The run's sweep: a request written before `deadline` has waited too long. One sweep
    /// for all connections instead of a timer scheduled and cancelled per request.
    func timeOut(ifSentBefore deadline: NIODeadline) {
        guard let pending = exchange, pending.sentAt < deadline else { return }
        exchange = nil
        run.failed(pending, reason: "no answer within the timeout")
        close()
    }

    private func lost(reason: String) {
        guard let pending = exchange else { return }
        exchange = nil
        run.failed(pending, reason: reason)
    }

    /// Short, stable reasons: they are counted, so they must not carry addresses or ids.
    static func reason(for error: Error) -> String {
        if let connection = error as? NIOConnectionError {
            // Each address tried failed; the first one's reason is the one to name.
            if let first = connection.connectionErrors.first { return reason(for: first.error) }
            if connection.dnsAError != nil || connection.dnsAAAAError != nil { return "the host name does not resolve" }
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused"
            case ECONNRESET: return "connection reset"
            case ETIMEDOUT: return "connection timed out"
            default: return "socket error \(io.errnoCode)"
            }
        }
        if error is ChannelError { return "connection failed (\(error))" }
        return "\(type(of: error))"
    }
}
