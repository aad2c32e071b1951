import CImageCodecs
import Foundation

/// gzip decompression (zlib, through `vlp_gunzip` of the CImageCodecs target), for the `.gz`
/// files swift-vlp reads: vocabularies and dictionaries (`AssetFile`), MNIST-style idx files
/// (`IDXLabels`). Output is capped, so that a small crafted file (deflate reaches ~1,000:1)
/// cannot ask for gigabytes.
public enum Gzip {
    /// Largest decompressed size accepted: 1 GiB, 20× Fashion-MNIST's training images.
    public static let maximumOutputBytes = 1 << 30

    /// Whether `bytes` start with gzip's magic number (1F 8B).
    public static func isCompressed(_ bytes: [UInt8]) -> Bool {
        bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B
    }

    /// The decompressed bytes of one or more gzip members; a damaged, truncated or too large
    /// stream is a `GzipError` saying which.
    public static func decompress(_ bytes: [UInt8], maximumBytes: Int = maximumOutputBytes) throws(GzipError) -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { input in
            vlp_gunzip(input.baseAddress, input.count, max(0, maximumBytes), &output, &count, &message, message.count)
        }
        defer { free(output) }
        guard status == 0, let output else {
            throw GzipError(reason: String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return Array(UnsafeBufferPointer(start: output, count: count))
    }
}

/// Why gzip data did not decompress (zlib's words, or the output limit).
public struct GzipError: Error, CustomStringConvertible, Equatable {
    public let reason: String
    public var description: String { "gzip: \(reason)" }
}
