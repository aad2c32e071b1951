import Foundation
import Hummingbird
import VLP
import XCTest
@testable import VLPServer

/// What `SearchServer` answers to requests a hostile client sends, over raw loopback sockets:
/// malformed escapes and requests, oversized and half-sent bodies, half-sent heads, idle
/// connections, and more queries than the queue holds. The tests are synchronous so that their
/// blocking socket reads do not hold a thread of the pool the server's handlers run on.
final class SearchServerLimitsTests: TorchTestCase {
    /// Starts the server on a free loopback port; it stops when the test ends.
    func serve(_ engine: SearchEngine, timeouts: ServerTimeouts = ServerTimeouts(),
               maximumConnections: Int = SearchServer.defaultMaximumConnections) throws -> Int {
        let port = PortBox()
        let application = SearchServer.application(engine, port: 0, timeouts: timeouts, maximumConnections: maximumConnections) { port.set($0) }
        let server = Task { try await application.run() }
        addTeardownBlock { server.cancel() }
        return try XCTUnwrap(port.wait(seconds: 30), "the server did not start")
    }

    /// Sends `request` on a new connection and reads the answer.
    func ask(_ port: Int, _ request: String) throws -> RawHTTPReply {
        let connection = try RawHTTPConnection(port: port)
        try connection.send(request)
        let received = connection.receive(timeout: 30, untilReply: true)
        return try XCTUnwrap(received.reply, "no answer to \(request.debugDescription): \(String(decoding: received.data, as: UTF8.self))")
    }

    func testMalformedEscapesRequestsAndPathsAnswerJSON() throws {
        let engine = try SearchEngine(indexFolder: try SearchFixtures.photoIndex(self, "escapes", count: 3).index)
        let port = try serve(engine)
        func get(_ target: String) throws -> RawHTTPReply {
            try ask(port, "GET \(target) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        }
        // Not UTF-8, a cut-off character, not hex: refused, not searched as the literal text.
        for escape in ["%FF%FE", "%E4%B8", "%zz", "abc%", "%4"] {
            let reply = try get("/api/search?q=\(escape)&k=2")
            XCTAssertEqual(reply.status, 400, escape)
            XCTAssertEqual(reply.headers["content-type"], "application/json; charset=utf-8", escape)
            XCTAssertTrue(reply.errorMessage?.contains("q is not valid percent-encoded UTF-8") == true, "\(escape): \(reply.errorMessage ?? "no JSON")")
        }
        let badCount = try get("/api/search?q=cat&k=%FF")
        XCTAssertEqual(badCount.status, 400)
        XCTAssertTrue(badCount.errorMessage?.contains("k is not valid") == true, badCount.errorMessage ?? "no JSON")
        // The same character whole is searched.
        let whole = try get("/api/search?q=%E4%B8%80&k=2")
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(try JSONDecoder().decode(SearchResponse.self, from: whole.body).query, "一")

        for (target, status, words) in [("/nothing/here", 404, "no such path: GET /nothing/here"), ("/images/x", 404, "no image at that position"),
                                        ("/api/search/image", 404, "no such path")] {
            let reply = try get(target)
            XCTAssertEqual(reply.status, status, target)
            XCTAssertTrue(reply.errorMessage?.contains(words) == true, "\(target): \(reply.errorMessage ?? "no JSON")")
        }
        // Bytes that are not HTTP, and headers over the decoder's 80 KiB: a JSON 400, and the
        // connection closed.
        for request in ["HELLO THERE\r\n\r\n", "GET / HTTP/1.1\r\nX-Long: \(String(repeating: "a", count: 100_000))\r\n\r\n"] {
            let connection = try RawHTTPConnection(port: port)
            try connection.send(request)
            let garbage = connection.receive(timeout: 10)
            XCTAssertTrue(garbage.isClosed)
            XCTAssertEqual(garbage.reply?.status, 400, String(decoding: garbage.data, as: UTF8.self))
            XCTAssertTrue(garbage.reply?.errorMessage?.contains("not valid HTTP") == true, String(decoding: garbage.data, as: UTF8.self))
        }
    }

    func testAnAnswerLeavingTheBodyUnreadClosesTheConnection() throws {
        let (folder, files, _) = try SearchFixtures.photoIndex(self, "unread", count: 3)
        let port = try serve(try SearchEngine(indexFolder: folder), timeouts: ServerTimeouts(linger: 0.5))

        // 413: a declared length over the limit, with only 64 KiB of it ever sent.
        let large = try RawHTTPConnection(port: port)
        try large.send("POST /api/search/image?k=2 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(SearchServer.defaultMaximumImageBytes + 1)\r\n\r\n")
        try large.send([UInt8](repeating: 0x55, count: 64 << 10))
        let refused = large.receive(timeout: 10)
        XCTAssertTrue(refused.isClosed, "the connection stays open after a 413")
        XCTAssertLessThan(refused.seconds, 5)
        let reply = try XCTUnwrap(refused.reply, String(decoding: refused.data, as: UTF8.self))
        XCTAssertEqual(reply.status, 413)
        XCTAssertEqual(reply.headers["connection"], "close")
        XCTAssertTrue(reply.errorMessage?.contains("over 20 MiB") == true, reply.errorMessage ?? "no JSON")

        // A bad query answered before a half-sent body is read: the same.
        let early = try RawHTTPConnection(port: port)
        try early.send("POST /api/search/image?k=many HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
        try early.send([UInt8](repeating: 1, count: 1000))
        let earlyAnswer = early.receive(timeout: 10)
        XCTAssertTrue(earlyAnswer.isClosed)
        XCTAssertEqual(earlyAnswer.reply?.status, 400)
        XCTAssertTrue(earlyAnswer.reply?.errorMessage?.contains("whole number") == true, String(decoding: earlyAnswer.data, as: UTF8.self))

        // An error whose request was whole keeps the connection: the next request is answered.
        let bytes = try XCTUnwrap(FileManager.default.contents(atPath: files[1]))
        let kept = try RawHTTPConnection(port: port)
        try kept.send("POST /api/search/image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5\r\n\r\nhello")
        let notImage = kept.receive(timeout: 30, untilReply: true)
        XCTAssertFalse(notImage.isClosed)
        XCTAssertEqual(notImage.reply?.status, 400)
        try kept.send("POST /api/search/image?k=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: \(bytes.count)\r\n\r\n")
        try kept.send(Array(bytes))
        let found = kept.receive(timeout: 30, untilReply: true)
        XCTAssertEqual(found.reply?.status, 200, String(decoding: found.data, as: UTF8.self))
    }

    func testSlowAndIdleConnectionsAreClosed() throws {
        let engine = try SearchEngine(indexFolder: try SearchFixtures.photoIndex(self, "slow", count: 2).index)
        let timeouts = ServerTimeouts(idle: 2.5, headerRead: 0.5, bodyRead: 1, linger: 0.5)
        let port = try serve(engine, timeouts: timeouts)

        // A head that never ends: closed after the header-read timeout, though bytes trickle in.
        let halfHead = try RawHTTPConnection(port: port)
        try halfHead.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        let trickled = halfHead.receive(timeout: 0.3)
        XCTAssertFalse(trickled.isClosed)
        try halfHead.send("X-Slow: 1\r\n")
        let cut = halfHead.receive(timeout: 10)
        XCTAssertTrue(cut.isClosed, "a half-sent head is held open")
        XCTAssertLessThan(cut.seconds + trickled.seconds, 2, "closed by the header-read timeout, not the idle one")
        XCTAssertTrue(cut.data.isEmpty, String(decoding: cut.data, as: UTF8.self))

        // A body that never ends: closed after the body-read timeout.
        let halfBody = try RawHTTPConnection(port: port)
        try halfBody.send("POST /api/search/image HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 5000\r\n\r\n" + String(repeating: "x", count: 100))
        let stalled = halfBody.receive(timeout: 10)
        XCTAssertTrue(stalled.isClosed, "a half-sent body is held open")
        XCTAssertGreaterThan(stalled.seconds, 0.7)
        XCTAssertLessThan(stalled.seconds, 2.4, "closed by the body-read timeout, not the idle one")

        // A connection that sends nothing lives until the idle timeout, and may ask meanwhile.
        let idle = try RawHTTPConnection(port: port)
        let waited = idle.receive(timeout: 1.2)
        XCTAssertFalse(waited.isClosed, "an idle connection is closed by the header-read timeout")
        try idle.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertEqual(idle.receive(timeout: 10, untilReply: true).reply?.status, 200)
        let ended = idle.receive(timeout: 10)
        XCTAssertTrue(ended.isClosed, "an idle connection is held open")
        XCTAssertGreaterThan(ended.seconds, 2)
        XCTAssertLessThan(ended.seconds, 5)
    }

    func testAFullQueueAnswers503WithRetryAfter() throws {
        let engine = try SearchEngine(indexFolder: try SearchFixtures.photoIndex(self, "busy", count: 3).index,
                                      batching: SearchBatching(window: 2, skipsWindowWhenAlone: false, maximumBatch: 8, maximumQueue: 1))
        let port = try serve(engine)
        let first = try RawHTTPConnection(port: port)
        try first.send("GET /api/search?q=first&k=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let deadline = Date().addingTimeInterval(10)
        while engine.batchStatistics.waiting < 1, Date() < deadline { Thread.sleep(forTimeInterval: 0.005) }
        XCTAssertEqual(engine.batchStatistics.waiting, 1)

        let busy = try ask(port, "GET /api/search?q=second&k=2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertEqual(busy.status, 503)
        XCTAssertEqual(busy.headers["retry-after"], "1")
        XCTAssertTrue(busy.errorMessage?.contains("busy") == true, busy.errorMessage ?? "no JSON")
        let answered = first.receive(timeout: 30, untilReply: true)
        XCTAssertEqual(answered.reply?.status, 200, "the query that was queued is answered")
    }
}

extension SearchServerLimitsTests {
    /// Past the cap a connection gets a JSON 503 with Retry-After at once and is closed; the
    /// admitted ones are served; a slot freed by a closed connection is taken by the next.
    func testConnectionsPastTheCapAreAnswered503AndClosed() throws {
        let engine = try SearchEngine(indexFolder: try SearchFixtures.photoIndex(self, "cap", count: 2).index)
        let port = try serve(engine, timeouts: ServerTimeouts(linger: 0.5), maximumConnections: 3)
        var held = try (0..<3).map { _ in try RawHTTPConnection(port: port) }
        try held[0].send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertEqual(held[0].receive(timeout: 30, untilReply: true).reply?.status, 200)

        let extra = try RawHTTPConnection(port: port)
        try extra.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        let refused = extra.receive(timeout: 10)
        XCTAssertTrue(refused.isClosed, "a connection past the cap is held open")
        let reply = try XCTUnwrap(refused.reply, String(decoding: refused.data, as: UTF8.self))
        XCTAssertEqual(reply.status, 503)
        XCTAssertEqual(reply.headers["retry-after"], "1")
        XCTAssertTrue(reply.errorMessage?.contains("maximum of 3 connections") == true, reply.errorMessage ?? "no JSON")

        // The held connections still work; once one closes, a new one is admitted.
        try held[2].send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        XCTAssertEqual(held[2].receive(timeout: 30, untilReply: true).reply?.status, 200)
        held.removeFirst()
        var admitted: Int?
        let deadline = Date().addingTimeInterval(10)
        while admitted != 200, Date() < deadline {
            let next = try RawHTTPConnection(port: port)
            try next.send("GET /api/info HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            admitted = next.receive(timeout: 10, untilReply: true).reply?.status
            if admitted != 200 { Thread.sleep(forTimeInterval: 0.05) }
        }
        XCTAssertEqual(admitted, 200, "a freed slot is not given to a new connection")
        XCTAssertEqual(held.count, 2)
    }
}

/// The port a server reports once it listens, handed to the waiting test.
private final class PortBox: @unchecked Sendable {
    private let condition = NSCondition()
    private var port: Int?

    func set(_ port: Int) {
        condition.lock()
        self.port = port
        condition.broadcast()
        condition.unlock()
    }

    func wait(seconds: TimeInterval) -> Int? {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date().addingTimeInterval(seconds)
        while port == nil, condition.wait(until: deadline) {}
        return port
    }
}
