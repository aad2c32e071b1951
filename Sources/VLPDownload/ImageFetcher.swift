import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Fetches image bodies over HTTP(S) with AsyncHTTPClient, politely: a bounded number of
/// requests in total and per host, a connect timeout, a timeout on the whole fetch (head and
/// body) and on any pause in the body, redirects followed to a limit, a maximum body size
/// (announced or read), the opt-out headers, and retries with backoff for transient failures.
public final class ImageFetcher: Sendable {
    public struct Settings: Sendable {
        public var concurrency = 64
        public var perHost = 8
        public var connectTimeout: Double = 5
        /// Head and body together, per attempt.
        public var timeout: Double = 20
        public var maxRedirects = 5
        public var maxBodyBytes = 20 << 20
        public var userAgent: String
        public var optOut: OptOutDirectives
        public var retry = RetryPolicy()

        public init(userAgent: String, respectsNoindex: Bool = false) {
            self.userAgent = userAgent
            optOut = OptOutDirectives(respectsNoindex: respectsNoindex, userAgentToken: OptOutDirectives.token(ofUserAgent: userAgent))
        }
    }

    /// A body, with the attempts it took.
    public struct Body: Sendable {
        public var data: Data
        public var attempts: Int
    }

    public let settings: Settings
    private let client: HTTPClient
    private let limiter: ConcurrencyLimiter

    public init(settings: Settings) {
        self.settings = settings
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = settings.maxRedirects > 0
            ? .follow(max: settings.maxRedirects, allowCycles: false) : .disallow
        configuration.timeout = .init(connect: .milliseconds(Int64(settings.connectTimeout * 1000)),
                                      read: .milliseconds(Int64(settings.timeout * 1000)))
        configuration.connectionPool = .init(idleTimeout: .seconds(30),
                                             concurrentHTTP1ConnectionsPerHostSoftLimit: settings.perHost)
        configuration.decompression = .disabled
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        limiter = ConcurrencyLimiter(total: settings.concurrency, perHost: settings.perHost)
    }

    /// Closes the client's connections; call once, when done.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// The body at `address`, or why there is none.
    public func fetch(_ address: String) async -> Result<Body, DownloadFailure> {
        guard let url = URL(string: address), let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https",
              let host = url.host, !host.isEmpty
        else { return .failure(DownloadFailure(.invalidURL, detail: String(address.prefix(200)))) }
        let hostKey = host.lowercased() + (url.port.map { ":\($0)" } ?? "")
        var attempt = 0
        while true {
            let outcome = await limiter.withPermit(host: hostKey) { await self.attemptWithTimeout(address) }
            switch outcome {
            case .body(let data):
                return .success(Body(data: data, attempts: attempt + 1))
            case .failure(let failure, let retryAfter):
                guard let delay = settings.retry.delay(after: failure, attempt: attempt, retryAfter: retryAfter) else {
                    return .failure(failure)
                }
                do { try await Task.sleep(nanoseconds: UInt64(delay * 1e9)) } catch {
                    return .failure(failure)                 // cancelled while waiting: the last failure stands
                }
                attempt += 1
            }
        }
    }

    enum Attempt: Sendable {
        case body(Data)
        case failure(DownloadFailure, retryAfter: Double?)
    }

    /// One attempt, raced against the whole-fetch timeout (AsyncHTTPClient's deadline covers
    /// only the head; the read timeout only pauses).
    private func attemptWithTimeout(_ address: String) async -> Attempt {
        let seconds = settings.timeout
        return await withTaskGroup(of: Attempt.self) { group in
            group.addTask { await self.attempt(address) }
            group.addTask {
                do { try await Task.sleep(nanoseconds: UInt64(seconds * 1e9)) } catch {
                    // Cancelled because the attempt finished first; this result is not read.
                }
                return .failure(DownloadFailure(.timeout, detail: "no whole body within \(seconds) s"), retryAfter: nil)
            }
            let first = await group.next() ?? .failure(DownloadFailure(.timeout), retryAfter: nil)
            group.cancelAll()
            return first
        }
    }

    private func attempt(_ address: String) async -> Attempt {
        var request = HTTPClientRequest(url: address)
        request.headers.add(name: "User-Agent", value: settings.userAgent)
        request.headers.add(name: "Accept", value: "image/webp,image/png,image/jpeg,image/*;q=0.8,*/*;q=0.5")
        do {
            let response = try await client.execute(request, deadline: .now() + .milliseconds(Int64(settings.timeout * 1000)))
            let status = Int(response.status.code)
            guard status == 200 else {
                let retryAfter = response.headers.first(name: "Retry-After").flatMap { RetryPolicy.retryAfterSeconds($0) }
                return .failure(DownloadFailure(.httpStatus, httpStatus: status, detail: response.status.reasonPhrase), retryAfter: retryAfter)
            }
            if let directive = settings.optOut.optOut(in: response.headers["X-Robots-Tag"]) {
                return .failure(DownloadFailure(.optedOut, detail: "X-Robots-Tag: \(directive)"), retryAfter: nil)
            }
            if let announced = response.headers.first(name: "Content-Length").flatMap({ Int($0) }), announced > settings.maxBodyBytes {
                return .failure(DownloadFailure(.tooLarge, detail: "Content-Length \(announced) over \(settings.maxBodyBytes) bytes"), retryAfter: nil)
            }
            var buffer = ByteBuffer()
            for try await chunk in response.body {
                guard buffer.readableBytes + chunk.readableBytes <= settings.maxBodyBytes else {
                    return .failure(DownloadFailure(.tooLarge, detail: "body over \(settings.maxBodyBytes) bytes"), retryAfter: nil)
                }
                var chunk = chunk
                buffer.writeBuffer(&chunk)
            }
            return .body(Data(buffer.readableBytesView))
        } catch {
            return .failure(Self.classify(error), retryAfter: nil)
        }
    }

    /// The failure reason of a client error.
    static func classify(_ error: Error) -> DownloadFailure {
        let text = String(describing: error)
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return DownloadFailure(.connect, detail: "connect timeout")
            case .readTimeout: return DownloadFailure(.timeout, detail: "the body paused too long")
            case .deadlineExceeded, .cancelled: return DownloadFailure(.timeout, detail: "no answer in time")
            case .redirectLimitReached: return DownloadFailure(.redirects, detail: "too many redirects")
            case .redirectCycleDetected: return DownloadFailure(.redirects, detail: "a redirect loop")
            case .invalidURL, .emptyHost, .emptyScheme: return DownloadFailure(.invalidURL, detail: text)
            case .remoteConnectionClosed, .bodyLengthMismatch: return DownloadFailure(.interrupted, detail: text)
            default:
                return DownloadFailure(.interrupted, detail: text)
            }
        }
        if let connection = error as? NIOConnectionError {
            if connection.connectionErrors.isEmpty && (connection.dnsAError != nil || connection.dnsAAAAError != nil) {
                return DownloadFailure(.dns, detail: "\(connection.host) did not resolve")
            }
            return DownloadFailure(.connect, detail: "\(connection.host):\(connection.port): " +
                                   (connection.connectionErrors.first.map { "\($0.error)" } ?? text))
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, ETIMEDOUT: return DownloadFailure(.connect, detail: text)
            default: return DownloadFailure(.interrupted, detail: text)
            }
        }
        if let channel = error as? ChannelError, case .connectTimeout = channel {
            return DownloadFailure(.connect, detail: "connect timeout")
        }
        if error is CancellationError { return DownloadFailure(.timeout, detail: "no whole body in time") }
        return DownloadFailure(.interrupted, detail: text)
    }
}
