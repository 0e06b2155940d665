import NIOCore

/// Commands written together, each with the promise its reply fulfils.
struct RESPRequest: Sendable {
    var commands: [RESPCommand]
    var promises: [EventLoopPromise<RESPValue>]
}

/// Encodes commands and matches replies to them in order, which is what makes pipelining work:
/// Redis answers the commands of one connection in the order it received them.
final class RESPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RESPRequest
    typealias OutboundOut = ByteBuffer

    private var received: ByteBuffer?
    private var waiting = CircularBuffer<EventLoopPromise<RESPValue>>()
    private let parser = RESPParser()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { command.write(into: &buffer) }
        waiting.append(contentsOf: request.promises)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        if received == nil {
            received = incoming
        } else {
            received?.writeBuffer(&incoming)
        }
        do {
            while var buffer = received, let value = try parser.parse(&buffer) {
                received = buffer.readableBytes == 0 ? nil : buffer
                guard let promise = waiting.popFirst() else {
                    failAll(RedisClientError.protocolViolation("a reply arrived for no command"), context: context)
                    return
                }
                promise.succeed(value)
            }
        } catch {
            failAll(RedisClientError.protocolViolation("\(error)"), context: context)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        failAll(RedisClientError.connectionClosed, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        let pending = waiting
        waiting.removeAll()
        for promise in pending { promise.fail(RedisClientError.connectionClosed) }
        context.fireChannelInactive()
    }

    /// After a protocol error the stream cannot be trusted: fail everything and close.
    private func failAll(_ error: Error, context: ChannelHandlerContext) {
        let pending = waiting
        waiting.removeAll()
        received = nil
        for promise in pending { promise.fail(error) }
        context.close(promise: nil)
    }
}
