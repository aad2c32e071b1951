import ArgumentParser
import Foundation
import VLP
import VLPDownload

/// `vlp data download LIST --out DIR`: image URLs with their texts to WebDataset shards that
/// `vlp data inspect`, `vlp data filter` and `vlp pretrain` read as they are.
struct DataDownloadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "download",
        abstract: "Fetch the images of a URL list (Zero jsonl, CSV/TSV, plain text) into WebDataset shards.",
        discussion: """
            Shard NNNNNN.tar holds list rows NNNNNN×N up to the next shard's first (N = --samples-per-shard), \
            each sample as KEY.jpg|png|webp + KEY.json (texts, url, original size, status) + KEY.txt; \
            NNNNNN_stats.json records every row's outcome and marks the shard complete. Run the same command \
            again to resume: complete shards are not fetched again. Failure reasons: \
            \(DownloadFailureReason.allCases.map(\.rawValue).joined(separator: ", ")). Parquet lists are \
            converted to CSV first (README, "From URLs to a pretraining run").
            """
    )

    @Argument(help: "The URL list: .jsonl (Zero), .csv, .tsv or .txt (one URL a line).")
    var list: String

    @Option(help: "Output folder for the shards, their stats and download_summary.json.")
    var out: String

    @Option(help: "List format (from the file name when omitted): \(URLListFormat.allCases.map(\.rawValue).joined(separator: ", ")).",
            transform: { name in
                guard let format = URLListFormat(rawValue: name) else {
                    throw ValidationError("--format: \"\(name)\" is not one of \(URLListFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return format
            })
    var format: URLListFormat?

    @Option(help: "CSV/TSV: the column holding the image URL.")
    var urlColumn = "url"

    @Option(help: "CSV/TSV: a column holding a caption (repeat for several; default caption).")
    var captionColumn: [String] = []

    @Option(help: "List rows per shard.")
    var samplesPerShard = 1000

    @Option(help: "Fetches at once, in total.")
    var concurrency = 64

    @Option(help: "Fetches at once to one host.")
    var perHost = 8

    @Option(help: "Seconds to make a connection.")
    var connectTimeout: Double = 5

    @Option(help: "Seconds for a whole fetch (head and body) and for any pause in the body, per attempt.")
    var timeout: Double = 20

    @Option(help: "Further attempts after a transient failure (connection, timeout, 408/429/5xx), with backoff.")
    var retries = 2

    @Option(help: "Longest Retry-After (seconds) waited for; a longer one ends the row's attempts for this run.")
    var maxRetryAfter: Double = 10

    @Option(help: "Largest body accepted, in MiB (reason too_large).")
    var maxBodyMb: Double = 20

    @Option(help: "Redirects followed (0: none).")
    var maxRedirects = 5

    @Option(help: "User-Agent header (default: swift-vlp/VERSION with --contact).")
    var userAgent: String?

    @Option(help: "Contact (e-mail or URL) put in the default User-Agent, for site owners.")
    var contact: String?

    @Flag(help: "Also drop images whose X-Robots-Tag says noindex or none (noai and noimageai always are).")
    var respectNoindex = false

    @Option(help: "Drop images whose shorter side is below this many pixels (0: off).")
    var minSide = 0

    @Option(help: "Drop images whose long side / short side is above this (0: off).")
    var maxAspect: Double = 0

    @Option(help: "Resize images whose shorter side is longer to this shorter side, stored as JPEG (0: keep sizes).")
    var resize = 0

    @Option(help: "JPEG quality of resized images.")
    var jpegQuality = 95

    @Flag(help: "Fetch again the rows of complete shards that failed with a transient cause, rewriting those shards.")
    var retryFailed = false

    @Flag(inversion: .prefixedNo, help: "The progress line on standard error (default: on a terminal).")
    var progress: Bool?

    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard samplesPerShard > 0 else { throw ValidationError("--samples-per-shard must be positive") }
        guard concurrency > 0 else { throw ValidationError("--concurrency must be positive") }
        guard perHost > 0 else { throw ValidationError("--per-host must be positive") }
        guard connectTimeout > 0, timeout > 0 else { throw ValidationError("--connect-timeout and --timeout must be positive seconds") }
        guard retries >= 0 else { throw ValidationError("--retries must be 0 or more") }
        guard maxRetryAfter >= 0 else { throw ValidationError("--max-retry-after must be 0 or more seconds") }
        guard maxBodyMb > 0 else { throw ValidationError("--max-body-mb must be positive") }
        guard maxRedirects >= 0 else { throw ValidationError("--max-redirects must be 0 or more") }
        guard minSide >= 0 else { throw ValidationError("--min-side must be 0 (off) or a positive number of pixels, not \(minSide)") }
        guard maxAspect == 0 || (maxAspect >= 1 && maxAspect.isFinite) else {
            throw ValidationError("--max-aspect is long side / short side: 0 (off) or at least 1, not \(maxAspect)")
        }
        guard resize >= 0 else { throw ValidationError("--resize must be 0 (off) or a positive shorter side, not \(resize)") }
        guard (1...100).contains(jpegQuality) else { throw ValidationError("--jpeg-quality must be in 1...100") }
        if let userAgent, userAgent.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--user-agent must not be empty")
        }
        if format == nil && URLListFormat.detect(path: list) == nil && !list.lowercased().hasSuffix(".parquet") {
            throw ValidationError("\(list): cannot tell the list format from its name; pass --format (\(URLListFormat.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
    }

    var options: DatasetDownloader.Options {
        let agent = userAgent ?? "swift-vlp/\(VLPVersion.string) (vlp data download; image-text dataset builder; contact: \(contact ?? "not given"))"
        var settings = ImageFetcher.Settings(userAgent: agent, respectsNoindex: respectNoindex)
        settings.concurrency = concurrency
        settings.perHost = perHost
        settings.connectTimeout = connectTimeout
        settings.timeout = timeout
        settings.maxRedirects = maxRedirects
        settings.maxBodyBytes = Int(maxBodyMb * 1024 * 1024)
        settings.retry = RetryPolicy(retries: retries, maxRetryAfter: maxRetryAfter)
        var options = DatasetDownloader.Options(list: list, output: out, fetcher: settings)
        options.format = format
        options.columns = URLListFormat.Columns(url: urlColumn, captions: captionColumn.isEmpty ? ["caption"] : captionColumn)
        options.samplesPerShard = samplesPerShard
        options.admission = ImageAdmission(minSide: minSide > 0 ? minSide : nil, maxAspect: maxAspect > 0 ? maxAspect : nil,
                                           resizeShortSide: resize > 0 ? resize : nil, jpegQuality: jpegQuality)
        options.retriesFailed = retryFailed
        options.showsProgress = progress
        return options
    }

    func run() throws {
        let downloader = try DatasetDownloader(options: options)
        // The command is synchronous; the download runs as a task and hands its result back.
        let outcome = DownloadOutcome()
        Task {
            do { outcome.summary = try await downloader.run() } catch { outcome.failure = error }
            outcome.done.signal()
        }
        outcome.done.wait()
        if let failure = outcome.failure { throw failure }
        guard let summary = outcome.summary else { return }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
            encoder.keyEncodingStrategy = .convertToSnakeCase
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
        } else {
            print(summary.text)
            print("written to \(out)")
        }
    }
}

/// The download task's result, handed back to the waiting command.
private final class DownloadOutcome: @unchecked Sendable {
    let done = DispatchSemaphore(value: 0)
    var summary: DownloadSummary?
    var failure: Error?
}
