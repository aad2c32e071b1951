import Foundation
import Hummingbird
import NIOCore
import VLP

/// The HTTP face of a `SearchEngine` (Hummingbird):
///
/// - `GET /` — the search page (`SearchPage`);
/// - `GET /api/search?q=TEXT&k=N` — images for a text, as JSON (`SearchResponse`);
/// - `POST /api/search/image?k=N` — images like the request body's image (JPEG, PNG, WebP);
/// - either with `&target=texts` — the indexed texts instead (an index built with `--texts`),
///   and with `&rerank=K` — the top K image–text candidates re-ordered by R2D2's cross encoders;
/// - `GET /api/info` — the index's manifest;
/// - `GET /images/POSITION` — an indexed image's bytes.
///
/// Every error answer has a JSON body `{"error": {"message": …}}` saying what was wrong: 400 for
/// a bad query (including a malformed percent escape), 404, 413 for an image over
/// the image limit, 503 with `Retry-After` when too many queries are waiting for the model
/// (`SearchBatching.maximumQueue`). Connections are closed when idle or slow to send
/// (`ServerTimeouts`) and after an answer that leaves the request's body unread.
public enum SearchServer {
    /// Largest query image accepted when not told otherwise, in bytes.
    public static let defaultMaximumImageBytes = 20 << 20

    /// The routes over `engine`. Every request is logged (method and path); with
    /// `allowAnyOrigin` the API answers browsers on other origins too (CORS `*`); a query image
    /// over `maximumImageBytes` is a 413.
    public static func router(_ engine: SearchEngine, allowAnyOrigin: Bool = false,
                              maximumImageBytes: Int = defaultMaximumImageBytes) -> Router<SearchRequestContext> {
        let router = Router(context: SearchRequestContext.self)
        router.add(middleware: LogRequestsMiddleware(.info))
        if allowAnyOrigin { router.add(middleware: CORSMiddleware(allowOrigin: .all)) }
        router.add(middleware: JSONErrorMiddleware())
        router.get("/") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: SearchPage.html)))
        }
        router.get("/api/search") { request, _ -> SearchResponse in
            let asked = try SearchParameters(query: request.uri.query)
            let text = asked.text ?? ""
            let start = Date()
            let hits = try await answer { try await engine.search(text: text, count: asked.count, target: asked.target, rerank: asked.rerank) }
            return SearchResponse(query: text, hits: hits, since: start)
        }
        router.post("/api/search/image") { request, _ -> SearchResponse in
            let asked = try SearchParameters(query: request.uri.query)
            // A declared length over the limit is refused before reading any of the body.
            let tooLarge = HTTPError(.contentTooLarge, message: "the query image is over \(Self.describe(bytes: maximumImageBytes)) (the server's limit)")
            if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maximumImageBytes { throw tooLarge }
            var request = request
            let body: ByteBuffer
            do {
                body = try await request.collectBody(upTo: maximumImageBytes)
            } catch {
                throw tooLarge
            }
            let start = Date()
            let hits = try await answer { try await engine.search(image: Array(buffer: body), count: asked.count, target: asked.target, rerank: asked.rerank) }
            return SearchResponse(query: nil, hits: hits, since: start)
        }
        router.get("/api/info") { _, _ -> IndexInfo in
            IndexInfo(manifest: engine.index.manifest)
        }
        router.get("/images/{position}") { _, context -> Response in
            guard let position = context.parameters.get("position", as: Int.self), engine.index.entries.indices.contains(position) else {
                throw HTTPError(.notFound, message: "no image at that position; the index holds \(engine.index.entries.count)")
            }
            let file = engine.index.imageFile(of: engine.index.entries[position])
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw HTTPError(.notFound, message: "the image file of entry \(position) is gone")
            }
            let type = ImageContainer.sniff(data).map { $0 == .jpeg ? "image/jpeg" : "image/\($0.rawValue)" } ?? "application/octet-stream"
            return Response(status: .ok, headers: [.contentType: type, .cacheControl: "max-age=3600"],
                            body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
        }
        return router
    }

    /// Most connections open at once when not told otherwise (nginx's default per worker).
    public static let defaultMaximumConnections = 512

    /// An application serving `engine` on `host:port` (port 0: any free port, reported to
    /// `onRunning`), closing connections that outstay `timeouts` and answering 503 to those past
    /// `maximumConnections` open at once.
    public static func application(_ engine: SearchEngine, host: String = "127.0.0.1", port: Int = 8080, allowAnyOrigin: Bool = false,
                                   timeouts: ServerTimeouts = ServerTimeouts(), maximumConnections: Int = defaultMaximumConnections,
                                   maximumImageBytes: Int = defaultMaximumImageBytes,
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let connections = ConnectionCounter(maximum: maximumConnections)
        return Application(router: router(engine, allowAnyOrigin: allowAnyOrigin, maximumImageBytes: maximumImageBytes),
                    server: GuardedHTTP1Channel.builder(timeouts: timeouts, connections: connections),
                    configuration: .init(address: .hostname(host, port: port), serverName: "vlp serve"),
                    onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) })
    }

    /// The body of an error answer: `{"error":{"message":…}}`.
    static func errorJSON(_ message: String) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        let data = (try? encoder.encode(["error": ["message": message]])) ?? Data(#"{"error":{"message":"unknown"}}"#.utf8)
        return String(decoding: data, as: UTF8.self)
    }

    /// "20 MiB", "1.5 MiB", "900 bytes".
    static func describe(bytes: Int) -> String {
        guard bytes >= 1 << 20 else { return "\(bytes) bytes" }
        let mebibytes = Double(bytes) / Double(1 << 20)
        return mebibytes == mebibytes.rounded() ? "\(Int(mebibytes)) MiB" : String(format: "%.1f MiB", mebibytes)
    }

    /// Runs a search, turning a query the engine rejects into a 400 that says why, and a full
    /// queue into a 503 asking the client to retry in a second.
    static func answer(_ search: () async throws -> [SearchIndex.Hit]) async throws -> [SearchIndex.Hit] {
        do {
            return try await search()
        } catch let error as SearchIndexError {
            throw HTTPError(.badRequest, message: error.description)
        } catch let error as SearchEngineError {
            throw HTTPError(.serviceUnavailable, headers: [.retryAfter: "1"], message: error.description)
        }
    }
}

/// Gives every error answer a JSON body: Hummingbird's own (an unknown path) have none, and an
/// error that is not an HTTP error would be an empty 500.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.body == nil {
            let message = error.status == .notFound ? "no such path: \(request.method) \(request.uri.path)" : error.status.reasonPhrase
            throw HTTPError(error.status, headers: error.headers, message: message)
        } catch let error as any HTTPResponseError {
            throw error
        } catch {
            context.logger.error("\(request.method) \(request.uri.path): \(error)")
            throw HTTPError(.internalServerError, message: "\(error)")
        }
    }
}

/// Hummingbird's basic request context, answering JSON with `/` unescaped ("/images/3", not
/// "\/images\/3") and keys in a fixed order.
public struct SearchRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) { coreContext = .init(source: source) }

    public var responseEncoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
        return encoder
    }
}

/// The JSON a search returns.
public struct SearchResponse: ResponseEncodable, Decodable, Sendable {
    public struct Result: Codable, Sendable {
        public var rank: Int
        /// Position in the index (the `/images/POSITION` path).
        public var position: Int
        public var id: String
        /// Cosine similarity between the query and the image.
        public var score: Float
        public var image: String
        public var texts: [String]
        /// The matched text, for a search of texts.
        public var text: String?
        /// The cross encoders' match probability, for re-ranked results (then `score` is the
        /// similarity plus it).
        public var match: Float?
    }

    /// The text query; nil for an image query.
    public var query: String?
    public var milliseconds: Double
    public var results: [Result]

    public init(query: String?, hits: [SearchIndex.Hit], since start: Date) {
        self.query = query
        milliseconds = (Date().timeIntervalSince(start) * 1e4).rounded() / 10
        results = hits.enumerated().map { rank, hit in
            Result(rank: rank + 1, position: hit.position, id: hit.entry.id, score: hit.score, image: "/images/\(hit.position)",
                   texts: hit.entry.texts, text: hit.text, match: hit.match)
        }
    }
}

/// What `GET /api/info` returns.
public struct IndexInfo: ResponseEncodable, Decodable, Sendable {
    public var manifest: IndexManifest
}
