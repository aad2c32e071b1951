import Foundation
import XCTest
@testable import VLP
@testable import VLPDownload

/// Real photos (assets/photos) and a truncated copy of one, by the names the server serves.
func downloadTestPhotos() throws -> [String: Data] {
    var images: [String: Data] = [:]
    for name in ["rocket.jpg", "chelsea.png", "retina.jpg", "coffee.png", "hubble_deep_field.jpg", "astronaut.png"] {
        images[name] = try Data(contentsOf: URL(fileURLWithPath: try VisionFixtures.photoPath(name)))
    }
    images["rocket-copy.jpg"] = images["rocket.jpg"]
    images["rocket-cut.jpg"] = images["rocket.jpg"]!.prefix(images["rocket.jpg"]!.count * 6 / 10)
    images["small.jpg"] = Data(try VisionFixtures.bytes("edge/rgb.jpg"))           // 32×24
    images["lossy.webp"] = Data(try VisionFixtures.bytes("edge/lossy.webp"))
    let wide = RGBImage(width: 400, height: 100, fill: (r: 200, g: 30, b: 90))
    images["wide.png"] = Data(try ImageEncoder.png(wide))
    images["pattern.png"] = Data(try ImageEncoder.png(RGBImage(width: 160, height: 120,
                                                               pixels: (0..<(160 * 120 * 3)).map { UInt8(truncatingIfNeeded: $0 / 7) })))
    return images
}

/// `count` distinct PNGs, `gen-ROW.png`, with patterns that depend on the row.
func downloadTestGeneratedImages(count: Int) throws -> [String: Data] {
    var images: [String: Data] = [:]
    for row in 0..<count {
        let image = RGBImage(width: 40, height: 32,
                             pixels: (0..<(40 * 32 * 3)).map { UInt8(truncatingIfNeeded: $0 * (row + 3) + row * 17) })
        images["gen-\(row).png"] = Data(try ImageEncoder.png(image))
    }
    return images
}

/// Fetcher settings for loopback tests: short timeouts and backoff.
func downloadTestSettings(timeout: Double = 1.5) -> ImageFetcher.Settings {
    var settings = ImageFetcher.Settings(userAgent: "swift-vlp/test (contact: tests)")
    settings.concurrency = 8
    settings.perHost = 8
    settings.connectTimeout = 1
    settings.timeout = timeout
    settings.maxBodyBytes = 4 << 20
    settings.retry = RetryPolicy(retries: 1, baseDelay: 0.05, maxRetryAfter: 2)
    return settings
}

/// Writes a Zero-style jsonl URL list.
func writeURLList(_ rows: [[String: Any]], to path: String) throws {
    var data = Data()
    for row in rows {
        data += try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys])
        data.append(0x0A)
    }
    try data.write(to: URL(fileURLWithPath: path))
}

/// The stats of every shard in `folder`, in shard order.
func readShardStats(_ folder: String) throws -> [ShardStats] {
    try FileManager.default.contentsOfDirectory(atPath: folder).compactMap { ShardStats.shard(ofStatsName: $0) }.sorted()
        .map { try ShardStats.decoder.decode(ShardStats.self, from: Data(contentsOf: URL(fileURLWithPath: folder + "/" + ShardStats.statsName($0)))) }
}
