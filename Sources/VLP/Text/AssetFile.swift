import Foundation

/// Reads the bytes of an asset file (vocabulary, merges, dictionary), decompressing it when the
/// name ends in `.gz`. Missing files become `TextError.missingFile` with a hint to run
/// `make assets`, which fetches every asset this module reads.
enum AssetFile {
    static let fetchHint = "run `make assets` in the package folder to fetch the vocabularies and dictionaries, and start vlp there or set VLP_ROOT to that folder"

    static func read(_ requested: String) throws -> [UInt8] {
        let path = locate(requested)
        guard FileManager.default.fileExists(atPath: path) else {
            throw TextError.missingFile(path: requested, hint: fetchHint)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TextError.unreadableFile(path: path, reason: "the file cannot be opened")
        }
        let bytes = [UInt8](data)
        return path.hasSuffix(".gz") ? try gunzip(bytes, path: path) : bytes
    }

    /// Where a relative asset path is found: the working directory first, then the folder
    /// `VLP_ROOT` names, then the package folder of a `vlp` built in its `.build/CONFIG/`, so
    /// that `vlp serve` or `vlp search` work when started from anywhere.
    static func locate(_ path: String) -> String {
        let manager = FileManager.default
        guard !path.hasPrefix("/"), !manager.fileExists(atPath: path) else { return path }
        var roots: [URL] = []
        if let root = ProcessInfo.processInfo.environment["VLP_ROOT"], !root.isEmpty { roots.append(URL(fileURLWithPath: root)) }
        if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
            // .build/<triple>/<config>/vlp or .build/<config>/vlp → the package folder.
            var folder = executable.deletingLastPathComponent()
            for _ in 0..<3 {
                folder = folder.deletingLastPathComponent()
                if folder.lastPathComponent != ".build" && manager.fileExists(atPath: folder.appendingPathComponent("Package.swift").path) {
                    roots.append(folder)
                    break
                }
            }
        }
        for root in roots where manager.fileExists(atPath: root.appendingPathComponent(path).path) {
            return root.appendingPathComponent(path).path
        }
        return path
    }

    /// Decompresses a gzip stream (`Gzip`), naming the file in the error.
    static func gunzip(_ bytes: [UInt8], path: String) throws -> [UInt8] {
        do {
            return try Gzip.decompress(bytes)
        } catch {
            throw TextError.unreadableFile(path: path, reason: error.description)
        }
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
