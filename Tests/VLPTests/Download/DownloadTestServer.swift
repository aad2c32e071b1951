import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import VLP
import XCTest

/// A Hummingbird server on 127.0.0.1 (a free port) that serves real images and misbehaves on
/// purpose, for `vlp data download`'s tests. Every request is counted by path and query.
///
///     /img/NAME            the image NAME (200), after `delay` seconds when set
///     /status/CODE         an empty answer with that status
///     /ratelimit/NAME      429 with Retry-After: 1 the first time, then the image
///     /ratelimit-long      429 with Retry-After: 3600, always
///     /flaky/NAME          503 until `heal()`, then the image
///     /slow/NAME           the image in 8 pieces, 60 ms apart
///     /stall               the first 100 bytes of a JPEG, then nothing for a minute
///     /cut                 announces 10,000 bytes, sends 1,000 and closes the connection
///     /loop/a, /loop/b     redirect to each other
///     /redirect/NAME       one redirect to /img/NAME
///     /html                a 200 HTML page
///     /big                 announces a 50 MB body (and would send it)
///     /big-chunked         50 MB without a length, in 1 MiB pieces
///     /optout/DIRECTIVE/NAME  the image NAME with `X-Robots-Tag: DIRECTIVE`
final class DownloadTestServer: @unchecked Sendable {
    let images: [String: Data]
    private let lock = NSLock()
    private var counts: [String: Int] = [:]
    private var healed = false
    private var inFlight = 0
    /// The most /img requests answered at once.
    var maxInFlight: Int { lock.withLock { mostInFlight } }
    private var mostInFlight = 0
    private var task: Task<Void, Error>?
    private(set) var port = 0
    /// Seconds every /img answer waits first (to stretch a run for the kill test).
    let delay: Double

    init(images: [String: Data], delay: Double = 0) {
        self.images = images
        self.delay = delay
    }

    var base: String { "http://127.0.0.1:\(port)" }

    func count(_ pathAndQuery: String) -> Int { lock.withLock { counts[pathAndQuery, default: 0] } }
    func heal() { lock.withLock { healed = true } }
    private var isHealed: Bool { lock.withLock { healed } }

    private func record(_ request: Request) -> Int {
        let key = request.uri.path + (request.uri.query.map { "?" + $0 } ?? "")
        return lock.withLock { counts[key, default: 0] += 1; return counts[key]! }
    }

    private func image(_ context: some RequestContext) throws -> Data {
        guard let name = context.parameters.get("name"), let data = images[name] else { throw HTTPError(.notFound) }
        return data
    }

    private static func ok(_ data: Data, headers: HTTPFields = [:]) -> Response {
        var fields = headers
        fields[.contentType] = ImageContainer.sniff(data).map { "image/" + ($0 == .jpeg ? "jpeg" : $0.rawValue) } ?? "application/octet-stream"
        return Response(status: .ok, headers: fields, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    func start() async throws {
        let router = Router()
        router.get("img/:name") { request, context -> Response in
            _ = self.record(request)
            self.lock.withLock { self.inFlight += 1; self.mostInFlight = max(self.mostInFlight, self.inFlight) }
            defer { self.lock.withLock { self.inFlight -= 1 } }
            if self.delay > 0 { try await Task.sleep(nanoseconds: UInt64(self.delay * 1e9)) }
            return Self.ok(try self.image(context))
        }
        router.get("status/:code") { request, context -> Response in
            _ = self.record(request)
            let code = context.parameters.get("code", as: Int.self) ?? 500
            return Response(status: HTTPResponse.Status(code: code))
        }
        router.get("ratelimit/:name") { request, context -> Response in
            if self.record(request) == 1 { return Response(status: .tooManyRequests, headers: [.retryAfter: "1"]) }
            return Self.ok(try self.image(context))
        }
        router.get("ratelimit-long") { request, _ -> Response in
            _ = self.record(request)
            return Response(status: .tooManyRequests, headers: [.retryAfter: "3600"])
        }
        router.get("flaky/:name") { request, context -> Response in
            _ = self.record(request)
            guard self.isHealed else { return Response(status: .serviceUnavailable) }
            return Self.ok(try self.image(context))
        }
        router.get("slow/:name") { request, context -> Response in
            _ = self.record(request)
            let data = try self.image(context)
            let pieces = stride(from: 0, to: data.count, by: (data.count + 7) / 8).map { data[$0..<min(data.count, $0 + (data.count + 7) / 8)] }
            return Response(status: .ok, headers: [.contentType: "image/png"], body: ResponseBody(contentLength: data.count) { writer in
                for piece in pieces {
                    try await writer.write(ByteBuffer(bytes: piece))
                    try await Task.sleep(nanoseconds: 60_000_000)
                }
                try await writer.finish(nil)
            })
        }
        router.get("stall") { request, _ -> Response in
            _ = self.record(request)
            let start = self.images["rocket.jpg"]?.prefix(100) ?? Data()
            return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: ResponseBody(contentLength: 10_000) { writer in
                try await writer.write(ByteBuffer(bytes: start))
                try await Task.sleep(nanoseconds: 60_000_000_000)
                try await writer.finish(nil)
            })
        }
        router.get("cut") { request, _ -> Response in
            _ = self.record(request)
            let start = self.images["rocket.jpg"]?.prefix(1000) ?? Data()
            return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: ResponseBody(contentLength: 10_000) { writer in
                try await writer.write(ByteBuffer(bytes: start))
                throw HTTPError(.internalServerError)        // the connection closes mid-body
            })
        }
        router.get("loop/a") { request, _ -> Response in
            _ = self.record(request)
            return Response(status: .found, headers: [.location: "/loop/b"])
        }
        router.get("loop/b") { request, _ -> Response in
            _ = self.record(request)
            return Response(status: .found, headers: [.location: "/loop/a"])
        }
        router.get("redirect/:name") { request, context -> Response in
            _ = self.record(request)
            return Response(status: .found, headers: [.location: "/img/" + (context.parameters.get("name") ?? "")])
        }
        router.get("html") { request, _ -> Response in
            _ = self.record(request)
            return Response(status: .ok, headers: [.contentType: "text/html"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: "<!DOCTYPE html><html><body>moved</body></html>")))
        }
        let fiftyMB = 50 * 1024 * 1024, mebibyte = ByteBuffer(repeating: 0xAB, count: 1 << 20)
        router.get("big") { request, _ -> Response in
            _ = self.record(request)
            return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: ResponseBody(contentLength: fiftyMB) { writer in
                for _ in 0..<50 { try await writer.write(mebibyte) }
                try await writer.finish(nil)
            })
        }
        router.get("big-chunked") { request, _ -> Response in
            _ = self.record(request)
            let start = self.images["rocket.jpg"] ?? Data()
            return Response(status: .ok, headers: [.contentType: "image/jpeg"], body: ResponseBody { writer in
                try await writer.write(ByteBuffer(bytes: start))
                for _ in 0..<50 { try await writer.write(mebibyte) }
                try await writer.finish(nil)
            })
        }
        router.get("optout/:directive/:name") { request, context -> Response in
            _ = self.record(request)
            let directive = context.parameters.get("directive") ?? ""
            return Self.ok(try self.image(context), headers: [HTTPField.Name("X-Robots-Tag")!: directive])
        }
        let (ports, sink) = AsyncStream.makeStream(of: Int.self)
        let application = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)),
                                      onServerRunning: { channel in sink.yield(channel.localAddress?.port ?? 0) })
        task = Task { try await application.run() }
        var iterator = ports.makeAsyncIterator()
        port = await iterator.next() ?? 0
        guard port > 0 else { throw XCTSkip("the test server did not start") }
    }

    func stop() {
        task?.cancel()
    }
}
