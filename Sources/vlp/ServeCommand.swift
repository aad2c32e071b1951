import ArgumentParser
import Foundation
import VLPServer

/// `vlp serve`: the search page and JSON API over an index (see `SearchServer`).
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve an index built by vlp index: a search page at / and a JSON API.",
        discussion: """
            GET /api/search?q=TEXT&k=N searches by text; POST /api/search/image?k=N with an image \
            as the body searches by image; GET /api/info describes the index; GET /images/N \
            returns an indexed image. Stops on SIGINT or SIGTERM.

              vlp serve --index photos.index --port 8080
            """)

    @OptionGroup var opening: IndexOpeningOptions

    @Option(help: "Address to listen on (0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0: any free port).")
    var port = 8080

    @Flag(help: "Let web pages on any origin call the API (CORS Access-Control-Allow-Origin: *).")
    var cors = false

    @OptionGroup(title: "Limits (README \"Limits and failure behaviour\")") var limits: ServerLimitOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
    }

    func run() throws {
        let engine = try opening.engine(batching: limits.batching, rerankCacheBytes: limits.rerankCacheMib << 20)
        let (host, count) = (self.host, engine.index.entries.count)
        let application = SearchServer.application(engine, host: host, port: port, allowAnyOrigin: cors, timeouts: limits.timeouts,
                                                   maximumConnections: limits.maxConnections,
                                                   maximumImageBytes: limits.maxImageMib << 20) { port in
            print("serving \(count) images on http://\(host):\(port)/")
            fflush(stdout)
        }
        // The command is synchronous; the server runs as a task until a signal stops it.
        let outcome = ServerOutcome()
        Task {
            do { try await application.runService() } catch { outcome.failure = error }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let failure = outcome.failure { throw failure }
    }
}

/// How the server task ended, handed back to the waiting command.
private final class ServerOutcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var failure: Error?
}
