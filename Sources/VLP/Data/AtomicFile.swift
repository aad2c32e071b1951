import Foundation

/// A file written under a temporary name beside its destination and renamed into place by
/// `commit()`, so a reader never sees half a file. Dropped without commit, the temp file is removed.
final class AtomicFile {
    let path: String
    let temporaryPath: String
    private var handle: FileHandle?
    private(set) var bytesWritten = 0

    init(path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent().path
        try AtomicFile.makeFolder(folder)
        self.path = path
        self.temporaryPath = folder + "/." + url.lastPathComponent + ".tmp-\(ProcessInfo.processInfo.processIdentifier)-\(UInt32.random(in: 0...UInt32.max))"
        guard FileManager.default.createFile(atPath: temporaryPath, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporaryPath)
        else { throw DatasetError.unwritable(path, reason: "cannot create \(temporaryPath)") }
        self.handle = handle
    }

    deinit {
        if let handle {
            try? handle.close()
            try? FileManager.default.removeItem(atPath: temporaryPath)
        }
    }

    func write(_ data: Data) throws {
        guard let handle else { throw DatasetError.unwritable(path, reason: "already committed") }
        do { try handle.write(contentsOf: data) } catch {
            throw DatasetError.unwritable(path, reason: "\(error)")
        }
        bytesWritten += data.count
    }

    func write(_ text: String) throws { try write(Data(text.utf8)) }

    /// Closes the temp file and renames it over `path`.
    func commit() throws {
        guard let handle else { return }
        self.handle = nil
        do {
            try handle.synchronize()
            try handle.close()
        } catch { throw DatasetError.unwritable(path, reason: "\(error)") }
        if rename(temporaryPath, path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporaryPath)
            throw DatasetError.unwritable(path, reason: reason)
        }
    }

    /// Writes `data` to `path` atomically in one go.
    static func write(_ data: Data, to path: String) throws {
        let file = try AtomicFile(path: path)
        try file.write(data)
        try file.commit()
    }

    static func makeFolder(_ folder: String) throws {
        guard !folder.isEmpty else { return }
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw DatasetError.unwritable(folder, reason: "cannot create folder: \(error.localizedDescription)")
        }
    }
}
