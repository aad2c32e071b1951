import Foundation

/// When to ask again after a transient failure: up to `retries` more attempts, waiting
/// `baseDelay × 2^attempt` (plus up to 25 % jitter) between them, or what a 429/503's
/// `Retry-After` asks when that is no more than `maxRetryAfter` seconds (a longer wait gives
/// up on the row for this run; `--retry-failed` can come back to it).
public struct RetryPolicy: Sendable, Equatable {
    public var retries: Int
    public var baseDelay: Double
    public var maxRetryAfter: Double

    public init(retries: Int = 2, baseDelay: Double = 0.5, maxRetryAfter: Double = 10) {
        self.retries = retries
        self.baseDelay = baseDelay
        self.maxRetryAfter = maxRetryAfter
    }

    /// Seconds to wait before attempt `attempt + 1` (attempt 0 was the first try), or nil to stop.
    public func delay(after failure: DownloadFailure, attempt: Int, retryAfter: Double?) -> Double? {
        guard failure.isTransient, attempt < retries else { return nil }
        if let retryAfter {
            return retryAfter <= maxRetryAfter ? max(0, retryAfter) : nil
        }
        let backoff = baseDelay * pow(2, Double(attempt))
        return backoff * Double.random(in: 1...1.25)
    }

    /// A `Retry-After` value in seconds: delta-seconds, or an HTTP date (IMF-fixdate) from `now`.
    public static func retryAfterSeconds(_ value: String, now: Date = Date()) -> Double? {
        let text = value.trimmingCharacters(in: .whitespaces)
        if let seconds = Int(text) { return Double(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return max(0, date.timeIntervalSince(now))
    }
}
