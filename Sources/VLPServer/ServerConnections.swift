import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// How long a connection to `vlp serve` may take at each step before the server closes it, so
/// that idle or half-sent connections do not pile up.
public struct ServerTimeouts: Sendable {
    /// A kept-alive connection on which no request has started (not one byte of it).
    public var idle: TimeInterval
    /// From the first byte of a request to the end of its head (the request line and headers).
    public var headerRead: TimeInterval
    /// From the end of a request's head to the end of its body.
    public var bodyRead: TimeInterval
    /// After an answer sent before its request's body was read (a 413, a 400 about the query):
    /// how long the rest of the body is read and dropped, after the server has finished
    /// sending, before the connection is closed. Closing at once, with bytes unread, would
    /// reset the connection and could lose the answer on its way to the client.
    public var linger: TimeInterval

    public init(idle: TimeInterval = 60, headerRead: TimeInterval = 10, bodyRead: TimeInterval = 60, linger: TimeInterval = 2) {
        self.idle = idle
        self.headerRead = headerRead
        self.bodyRead = bodyRead
        self.linger = linger
    }
}

/// Hummingbird's HTTP/1 channel with `ConnectionGuard` in its pipeline: the guard watches the
/// request parts between HTTP decoding and Hummingbird, and `ByteArrivals` (first in the
/// pipeline) tells it when the first byte of a request comes.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let responder: HTTPChannelHandler.Responder
    let timeouts: ServerTimeouts
    let connections: ConnectionCounter

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let (timeouts, connections) = (timeouts, connections)
        let isAdmitted = connections.admit()
        if isAdmitted { channel.closeFuture.whenComplete { _ in connections.release() } }
        return HTTP1Channel(responder: responder).setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let watcher = ConnectionGuard(timeouts: timeouts)
            try operations.addHandler(watcher, position: .before(try operations.handler(type: HTTPConnectionStateHandler.self)))
            try operations.addHandler(ByteArrivals(watcher), position: .first)
            if !isAdmitted {
                logger.warning("refused a connection: \(connections.maximum) are open")
                try operations.addHandler(ConnectionRefusal(maximum: connections.maximum, linger: timeouts.linger), position: .first)
            }
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await handleHTTP(asyncChannel: value, logger: logger)
    }

    /// A Hummingbird server builder making these channels, admitting at most `connections.maximum` at a time.
    static func builder(timeouts: ServerTimeouts, connections: ConnectionCounter) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in GuardedHTTP1Channel(responder: responder, timeouts: timeouts, connections: connections) }
    }
}

/// Tells the guard that bytes arrived, before the HTTP decoder turns them into request parts.
final class ByteArrivals: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let watcher: ConnectionGuard

    init(_ watcher: ConnectionGuard) { self.watcher = watcher }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        watcher.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// One connection's timer and ending, from the request parts read and the response parts written:
///
/// - one timer at a time: `idle` while nothing is asked, `headerRead` from a request's first
///   byte, `bodyRead` from its head, none while an answer is being computed; when it fires the
///   connection is closed;
/// - an answer written before its request's body was read (the route threw before reading it)
///   says `Connection: close`; once sent, the server stops sending, drops what still comes for
///   `linger`, and closes;
/// - a request that does not parse as HTTP, while nothing else is being answered, is answered
///   with a JSON 400 and the connection ended the same way (Hummingbird's own answer has no
///   body).
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeouts: ServerTimeouts
    private var context: ChannelHandlerContext?
    private var timer: Scheduled<Void>?
    private var heads = 0, ends = 0, answers = 0
    /// Bytes of a request came whose head has not been decoded yet.
    private var isHeadArriving = false
    /// The answer being written leaves its request's body unread; then the connection ends.
    private var isClosing = false

    init(timeouts: ServerTimeouts) { self.timeouts = timeouts }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { rearm() }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        self.context = nil
    }

    func channelActive(context: ChannelHandlerContext) {
        rearm()
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        context.fireChannelInactive()
    }

    func bytesArrived() {
        guard !isHeadArriving, heads == ends else { return }
        isHeadArriving = true
        rearm()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if isClosing { return }    // the rest of a body nobody will read
        switch unwrapInboundIn(data) {
        case .head:
            heads += 1
            isHeadArriving = false
        case .body:
            return context.fireChannelRead(data)    // bodyRead bounds the whole body, not each part
        case .end:
            ends += 1
            isHeadArriving = false
        }
        rearm()
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(var head) where ends == answers && heads > ends:
            // The route answered before the body was read.
            isClosing = true
            timer?.cancel()
            head.headerFields[.connection] = "close"
            context.write(wrapOutboundOut(.head(head)), promise: promise)
        case .end where isClosing:
            let sent = context.eventLoop.makePromise(of: Void.self)
            sent.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: sent)
            sent.futureResult.assumeIsolated().whenComplete { _ in self.stopSending(context) }
        case .end:
            answers += 1
            context.write(data, promise: promise)
            rearm()
        default:
            context.write(data, promise: promise)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if isClosing, error is HTTPParserError { return }    // what still comes is dropped anyway
        // A request that does not parse, while no answer has begun for it or an earlier one.
        guard let parseError = error as? HTTPParserError, ends == answers else { return context.fireErrorCaught(error) }
        isClosing = true
        timer?.cancel()
        let body = ByteBuffer(string: SearchServer.errorJSON("the request is not valid HTTP (\(parseError))"))
        let head = HTTPResponse(status: .badRequest, headerFields: [.contentType: "application/json; charset=utf-8",
                                                                    .contentLength: "\(body.readableBytes)", .connection: "close"])
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in self.stopSending(context) }
    }

    /// Half-closes (the client sees the answer end), then closes after `linger` or when the
    /// client closes first.
    private func stopSending(_ context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        context.close(mode: .output, promise: nil)
        schedule(timeouts.linger)
    }

    /// Starts the one timer the connection's state calls for.
    private func rearm() {
        guard !isClosing else { return }
        timer?.cancel()
        timer = nil
        if answers < ends { return }    // an answer is being computed
        schedule(heads > ends ? timeouts.bodyRead : isHeadArriving ? timeouts.headerRead : timeouts.idle)
    }

    private func schedule(_ seconds: TimeInterval) {
        guard let context else { return }
        timer?.cancel()
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(seconds * 1e9))) {
            context.close(promise: nil)
        }
    }
}
