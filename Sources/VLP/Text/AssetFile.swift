import CImageCodecs
import Foundation

/// Reads the bytes of an asset file (vocabulary, merges, dictionary), decompressing it when the
/// name ends in `.gz`. Missing files become `TextError.missingFile` with a hint to run
/// `make assets`, which fetches every asset this module reads.
enum AssetFile {
    static let fetchHint = "run `make assets` to fetch the vocabularies and dictionaries"

    static func read(_ path: String) throws -> [UInt8] {
        guard FileManager.default.fileExists(atPath: path) else {
            throw TextError.missingFile(path: path, hint: fetchHint)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TextError.unreadableFile(path: path, reason: "the file cannot be opened")
        }
        let bytes = [UInt8](data)
        return path.hasSuffix(".gz") ? try gunzip(bytes, path: path) : bytes
    }

    /// Decompresses a gzip stream with zlib (through `vlp_gunzip` of the CImageCodecs target).
    static func gunzip(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        var output: UnsafeMutablePointer<UInt8>? = nil
        var count = 0
        var message = [CChar](repeating: 0, count: 256)
        let status = bytes.withUnsafeBufferPointer { input in
            vlp_gunzip(input.baseAddress, input.count, &output, &count, &message, message.count)
        }
        guard status == 0, let output else {
            let reason = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw TextError.unreadableFile(path: path, reason: "gzip: \(reason)")
        }
        defer { free(output) }
        return Array(UnsafeBufferPointer(start: output, count: count))
    }

    /// Splits bytes into lines (on `\n`, dropping a trailing `\r`), as UTF-8 strings.
    static func lines(_ bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var start = 0
        bytes.withUnsafeBufferPointer { buffer in
            for i in 0...buffer.count where i == buffer.count || buffer[i] == 0x0A {
                var end = i
                if end > start, buffer[end - 1] == 0x0D { end -= 1 }
                if i < buffer.count || end > start {
                    lines.append(String(decoding: UnsafeBufferPointer(rebasing: buffer[start..<end]), as: UTF8.self))
                }
                start = i + 1
            }
        }
        return lines
    }
}
