import Foundation

/// Reads a text file line by line through a buffered `FileHandle`, without loading it whole.
/// Lines end at `\n`; a trailing `\r` is dropped. Line numbers are 1-based.
public final class LineReader {
    public let path: String
    private let handle: FileHandle
    private var buffer = Data()
    private var isAtEnd = false
    public private(set) var lineNumber = 0
    private let chunkSize: Int

    public init(path: String, chunkSize: Int = 1 << 20) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw DatasetError.fileNotFound(path) }
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw DatasetError.unreadable(path, reason: "cannot open")
        }
        self.path = path
        self.handle = handle
        self.chunkSize = chunkSize
    }

    deinit { try? handle.close() }

    /// The next line's bytes, or nil at end of file.
    public func nextLine() throws -> Data? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = buffer[buffer.startIndex..<newline]
                buffer = buffer[(newline + 1)...]
                if line.last == 0x0D { line = line.dropLast() }
                lineNumber += 1
                return Data(line)
            }
            if isAtEnd {
                guard !buffer.isEmpty else { return nil }
                var line = buffer
                buffer = Data()
                if line.last == 0x0D { line = line.dropLast() }
                lineNumber += 1
                return Data(line)
            }
            let chunk: Data?
            do { chunk = try handle.read(upToCount: chunkSize) } catch {
                throw DatasetError.unreadable(path, reason: "\(error)")
            }
            if let chunk, !chunk.isEmpty {
                buffer.append(chunk)
                if buffer.startIndex > 0 { buffer = Data(buffer) }
            } else {
                isAtEnd = true
            }
        }
    }

    /// The next line as UTF-8 text; nil at end. Invalid UTF-8 comes back as `.invalid`.
    func nextText() throws -> LineText? {
        guard let bytes = try nextLine() else { return nil }
        guard let text = String(data: bytes, encoding: .utf8) else { return .invalid }
        return .text(text)
    }

    enum LineText {
        case text(String)
        case invalid
    }
}
