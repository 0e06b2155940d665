import Foundation
import HTTPTypes
import NIOCore
import NIOHTTPTypes
import Synchronization

/// Answers some requests inside the connection's channel pipeline, before Hummingbird builds a
/// request, a context and a task for them: the liveness probe platforms send most often, and
/// designs this instance already holds (`CachedDesignShortcut`). Each answer either is complete
/// (headers, metrics, log line) or declines, and the request goes the usual way. It answers only
/// when no earlier request on the connection still waits for its response (HTTP/1.1
/// pipelining); otherwise the request goes to Hummingbird and is answered in order.
///
/// It also closes a connection idle for `idleTimeout`. Hummingbird's own idle timeout sits
/// behind this handler and never sees the requests answered here, so it would close a
/// connection busy with them; this handler sees every request and response.
final class EarlyAnswerHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Answer {
        var head: HTTPResponse
        var body: ByteBuffer
    }

    typealias Answerer = @Sendable (HTTPRequest) -> Answer?

    private let answerers: [Answerer]
    private let serverName: String
    private let idleTimeout: TimeAmount
    private var answer: Answer?
    /// Requests passed on whose response has not ended yet.
    private var outstanding = 0
    /// Between a request's head and its end.
    private var readingRequest = false
    private var lastActivity = NIODeadline.now()
    private var idleCheck: Scheduled<Void>?

    init(serverName: String, idleTimeout: TimeAmount, answerers: [Answerer]) {
        self.serverName = serverName
        self.idleTimeout = idleTimeout
        self.answerers = answerers
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // An HTTP/1.0 request then carries `Connection: close`, which this handler leaves to Hummingbird.
        try? HTTP10ConnectionClose.install(in: context.pipeline.syncOperations)
        if context.channel.isActive { scheduleIdleCheck(context, at: .now() + idleTimeout) }
    }

    func channelActive(context: ChannelHandlerContext) {
        scheduleIdleCheck(context, at: .now() + idleTimeout)
        context.fireChannelActive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        idleCheck?.cancel()
        idleCheck = nil
    }

    private func scheduleIdleCheck(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        guard idleCheck == nil else { return }
        idleCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            idleCheck = nil
            let busy = readingRequest || outstanding > 0
            let due = lastActivity + idleTimeout
            if !busy, NIODeadline.now() >= due {
                context.close(promise: nil)
            } else {
                scheduleIdleCheck(context, at: busy ? .now() + idleTimeout : due)
            }
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head(let request):
            readingRequest = true
            // `Connection: close` goes the long way, so connection handling stays Hummingbird's.
            answer = nil
            if outstanding == 0, request.headerFields[.connection] == nil {
                for answerer in answerers {
                    answer = answerer(request)
                    if answer != nil { break }
                }
            }
            if answer == nil {
                outstanding += 1
                context.fireChannelRead(data)
            }
        case .body:
            if answer == nil { context.fireChannelRead(data) }
        case .end:
            readingRequest = false
            guard var answer else {
                context.fireChannelRead(data)
                return
            }
            self.answer = nil
            answer.head.headerFields[.contentLength] = String(answer.body.readableBytes)
            answer.head.headerFields[.date] = HTTPDate.now()
            answer.head.headerFields[.server] = serverName
            context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
            context.write(wrapOutboundOut(.body(answer.body)), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            outstanding = max(0, outstanding - 1)
            lastActivity = .now()
        }
        context.write(data, promise: promise)
    }

    /// `GET /healthz`: the routed liveness answer, made once.
    static let liveness: Answerer = { request in
        guard request.method == .get, request.path == "/healthz" else { return nil }
        return livenessAnswer
    }

    private static let livenessAnswer: Answer = {
        let routed = HealthRoutes.liveness()
        return Answer(head: HTTPResponse(status: routed.status, headerFields: routed.headers), body: HealthRoutes.livenessBody)
    }()
}

/// The `Date` header's IMF-fixdate, formatted once a second.
enum HTTPDate {
    private static let cached = Mutex<(second: Int64, text: String)>((-1, ""))
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func now() -> String {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        let second = Int64(time.tv_sec)
        return cached.withLock { cached in
            if cached.second != second { cached = (second, format(secondsSinceEpoch: second)) }
            return cached.text
        }
    }

    /// `Sun, 29 Nov 2026 07:21:07 GMT`
    static func format(secondsSinceEpoch: Int64) -> String {
        let (days, secondOfDay) = secondsSinceEpoch.floorDivided(by: 86_400)
        let (year, month, day) = PostgresTimestamp.civilDate(daysSinceEpoch: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        return "\(weekdays[Int(days.floorDivided(by: 7).remainder)]), \(two(day)) \(months[Int(month - 1)]) \(year) "
            + "\(two(secondOfDay / 3_600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60)) GMT"
    }
}
