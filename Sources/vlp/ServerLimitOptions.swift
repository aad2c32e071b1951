import ArgumentParser
import Foundation
import VLPServer

/// `vlp serve`'s limits: connections, upload size, timeouts and the model's queue. The defaults
/// are those of `SearchServer`, `ServerTimeouts` and `SearchBatching`.
struct ServerLimitOptions: ParsableArguments {
    @Option(help: "Most connections open at once; one more is answered 503 with Retry-After and closed.")
    var maxConnections = SearchServer.defaultMaximumConnections

    @Option(name: .customLong("max-image-mib"), help: "Largest query image accepted, in MiB (larger: 413).")
    var maxImageMib = SearchServer.defaultMaximumImageBytes >> 20

    @Option(help: "Most queries waiting for the model; one more is answered 503 with Retry-After.")
    var maxQueue = SearchBatching().maximumQueue

    @Option(help: "Most queries embedded in one forward.")
    var maxBatch = SearchBatching().maximumBatch

    @Option(help: "Milliseconds the first query of a batch waits for others (0: no wait).")
    var batchWindowMs = SearchBatching().window * 1000

    @Option(name: .customLong("rerank-cache-mib"), help: "MiB of indexed images' states kept for re-ranking, least recently used out first (0: none).")
    var rerankCacheMib = SearchEngine.defaultRerankCacheBytes >> 20

    @Option(help: "Seconds a kept-alive connection may sit idle before it is closed.")
    var idleTimeout = ServerTimeouts().idle

    @Option(help: "Seconds from a request's first byte to the end of its head (request line and headers).")
    var headerTimeout = ServerTimeouts().headerRead

    @Option(help: "Seconds from the end of a request's head to the end of its body.")
    var bodyTimeout = ServerTimeouts().bodyRead

    func validate() throws {
        for (name, value) in [("--max-connections", maxConnections), ("--max-image-mib", maxImageMib), ("--max-queue", maxQueue), ("--max-batch", maxBatch)] {
            guard value >= 1 else { throw ValidationError("\(name) must be at least 1, not \(value)") }
        }
        guard maxImageMib <= 4096 else { throw ValidationError("--max-image-mib must be at most 4096, not \(maxImageMib)") }
        guard (0...1 << 20).contains(rerankCacheMib) else { throw ValidationError("--rerank-cache-mib must be in 0...\(1 << 20), not \(rerankCacheMib)") }
        guard batchWindowMs >= 0, batchWindowMs <= 1000 else { throw ValidationError("--batch-window-ms must be in 0...1000, not \(batchWindowMs)") }
        for (name, value) in [("--idle-timeout", idleTimeout), ("--header-timeout", headerTimeout), ("--body-timeout", bodyTimeout)] {
            guard value > 0, value <= 86_400 else { throw ValidationError("\(name) must be in (0, 86400] seconds, not \(value)") }
        }
    }

    var batching: SearchBatching {
        var batching = SearchBatching()
        batching.window = batchWindowMs / 1000
        batching.maximumBatch = maxBatch
        batching.maximumQueue = maxQueue
        return batching
    }

    var timeouts: ServerTimeouts {
        ServerTimeouts(idle: idleTimeout, headerRead: headerTimeout, bodyRead: bodyTimeout)
    }
}
