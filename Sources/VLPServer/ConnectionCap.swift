import Foundation
import NIOCore

/// The number of connections `vlp serve` holds open, and the most it admits: past the cap a new
/// connection is answered 503 and closed (`ConnectionRefusal`), so that a flood of idle or
/// half-sent connections cannot take every file descriptor while the timeouts run.
final class ConnectionCounter: @unchecked Sendable {
    let maximum: Int
    private let lock = NSLock()
    private var open = 0
    private var refusedSoFar = 0

    init(maximum: Int) { self.maximum = max(1, maximum) }

    /// Counts a new connection in; false (and nothing counted) when `maximum` are open.
    func admit() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard open < maximum else {
            refusedSoFar += 1
            return false
        }
        open += 1
        return true
    }

    /// Counts an admitted connection out.
    func release() {
        lock.lock()
        open -= 1
        lock.unlock()
    }

    /// Connections open now, and those refused since the server started.
    var counts: (open: Int, refused: Int) {
        lock.lock()
        defer { lock.unlock() }
        return (open, refusedSoFar)
    }
}

/// First in the pipeline of a connection over the cap: writes a complete HTTP 503 answer with a
/// JSON body and `Retry-After`, half-closes, drops whatever the client sends, and closes after
/// `linger` (or when the client closes first). The HTTP handlers behind it never see a byte.
final class ConnectionRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let linger: TimeInterval
    private let maximum: Int
    private var hasAnswered = false

    init(maximum: Int, linger: TimeInterval) {
        self.maximum = maximum
        self.linger = linger
    }

    /// The bytes of the answer: a status line, headers and the JSON error.
    static func answer(maximum: Int) -> String {
        let body = SearchServer.errorJSON("the server holds its maximum of \(maximum) connections; try again shortly")
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\nRetry-After: 1\r\n"
            + "Connection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}    // dropped

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func refuse(_ context: ChannelHandlerContext) {
        guard !hasAnswered else { return }
        hasAnswered = true
        let linger = linger
        context.writeAndFlush(NIOAny(ByteBuffer(string: Self.answer(maximum: maximum)))).assumeIsolated().whenComplete { _ in
            guard context.channel.isActive else { return }
            context.close(mode: .output, promise: nil)
            context.eventLoop.assumeIsolated().scheduleTask(in: .nanoseconds(Int64(linger * 1e9))) { context.close(promise: nil) }
        }
    }
}
