import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A file that a reader sees whole or not at all: written under a temporary name beside its
/// destination, flushed, and renamed into place by `commit()`. Dropped without commit, the
/// temporary file is removed. Used for checkpoints and corpora alike.
public final class AtomicFile {
    /// A file that could not be written; names it and says why.
    public struct WriteError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "\(path): cannot write: \(reason)" }
    }

    public let path: String
    public let temporaryPath: String
    private var handle: FileHandle?
    public private(set) var bytesWritten = 0

    public init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try AtomicFile.makeFolder(folder)
        self.path = path
        temporaryPath = folder + "/." + url.lastPathComponent + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporaryPath)
        else { throw WriteError(path: path, reason: "cannot create \(temporaryPath)") }
        self.handle = handle
    }

    deinit {
        if let handle {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporaryPath)
        }
    }

    public func write(_ data: Data) throws {
        guard let handle else { throw WriteError(path: path, reason: "already committed") }
        do { try handle.write(contentsOf: data) } catch { throw WriteError(path: path, reason: Self.reason(error)) }
        bytesWritten += data.count
    }

    public func write(_ text: String) throws { try write(Data(text.utf8)) }

    /// Flushes and closes the temporary file and renames it over `path`.
    public func commit() throws {
        guard let handle else { return }
        self.handle = nil
        do {
            try handle.synchronize()
            try handle.close()
        } catch { throw WriteError(path: path, reason: Self.reason(error)) }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw WriteError(path: path, reason: reason)
        }
    }

    /// Writes `data` to `path` atomically in one go.
    public static func write(_ data: Data, to path: String) throws {
        let file = try AtomicFile(path: path)
        try file.write(data)
        try file.commit()
    }

    public static func write(_ data: Data, to url: URL) throws {
        try write(data, to: url.path)
    }

    public static func makeFolder(_ folder: String) throws {
        guard !folder.isEmpty else { return }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw WriteError(path: folder, reason: "cannot create folder: \(reason(error))")
        }
    }

    /// A Foundation file error in a few words: the system's message underneath ("Not a
    /// directory", "Permission denied") rather than the NSError's dump or its generic text.
    static func reason(_ error: Error) -> String {
        if let posix = error as? POSIXError ?? (error as NSError).userInfo[NSUnderlyingErrorKey] as? POSIXError {
            return String(cString: strerror(posix.code.rawValue))
        }
        return error.localizedDescription
    }
}
