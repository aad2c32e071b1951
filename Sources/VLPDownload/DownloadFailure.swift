/// Why a row of a URL list did not become a sample. The raw values are what the per-shard stats
/// and the run summary count under.
public enum DownloadFailureReason: String, Codable, Sendable, CaseIterable, Comparable {
    /// Not an http(s) URL this tool can ask for.
    case invalidURL = "invalid_url"
    /// The host name did not resolve.
    case dns
    /// No connection could be made (refused, unreachable, connect timeout).
    case connect
    /// The whole fetch, or a pause in the body, outlasted its timeout.
    case timeout
    /// The connection closed before the body was whole.
    case interrupted
    /// The server answered with a status other than 200 (`httpStatus` says which).
    case httpStatus = "http_status"
    /// More redirects than allowed, or a redirect loop.
    case redirects
    /// The body is longer than `--max-body-bytes` (announced or read).
    case tooLarge = "too_large"
    /// The body is not a JPEG, PNG or WebP image (an HTML page, for example).
    case notAnImage = "not_an_image"
    /// An image container whose data does not decode (truncated, corrupt, too many pixels).
    case decodeError = "decode_error"
    /// The shorter side is under `--min-side`.
    case tooSmall = "too_small"
    /// Long side / short side is over `--max-aspect`.
    case aspectRatio = "aspect_ratio"
    /// The response's `X-Robots-Tag` asks not to be used (`noai`, `noimageai`; `noindex`,
    /// `none` with `--respect-noindex`).
    case optedOut = "opted_out"
    /// The same bytes as an image earlier in the list.
    case duplicate

    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
}

/// A failed row: the reason, the HTTP status for `httpStatus`, and a few words of detail.
public struct DownloadFailure: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: DownloadFailureReason
    public var httpStatus: Int?
    public var detail: String

    public init(_ reason: DownloadFailureReason, httpStatus: Int? = nil, detail: String = "") {
        self.reason = reason
        self.httpStatus = httpStatus
        self.detail = detail
    }

    /// Whether asking again later may succeed: lost or refused connections, timeouts, and the
    /// statuses that say "not now" (408, 429, 5xx). These are retried within a run (with
    /// backoff) and again by `--retry-failed`; nothing else is, DNS failures included (a name
    /// that does not resolve rarely starts to).
    public var isTransient: Bool {
        switch reason {
        case .connect, .timeout, .interrupted: return true
        case .httpStatus:
            guard let httpStatus else { return false }
            return httpStatus == 408 || httpStatus == 429 || httpStatus >= 500
        default: return false
        }
    }

    public var description: String {
        let status = httpStatus.map { " \($0)" } ?? ""
        return reason.rawValue + status + (detail.isEmpty ? "" : ": \(detail)")
    }
}
