import CTorch
import Foundation

/// A PyTorch checkpoint that cannot be read; names the file and what was wrong.
public struct CheckpointFormatError: Error, CustomStringConvertible {
    public let source: String
    public let reason: String
    public var description: String { "PyTorch checkpoint \(source): \(reason)" }
}

/// Reads PyTorch `.pt` / `.pth` / `.bin` state dicts into tensors under dotted names.
///
/// Both layouts go through `RestrictedUnpickler`, which accepts only tensors, dicts, lists and
/// primitives and never executes code:
/// - zip (torch.save since 1.6): records read by libtorch's PyTorchStreamReader; `data.pkl`
///   is the object, `data/<key>` each storage's raw bytes.
/// - legacy (before 1.6): pickles of the magic number, the protocol version (1001) and a
///   sys-info dict; the object pickle; a pickle of the storage keys; then per key an int64
///   element count and the raw little-endian elements.
public enum PyTorchCheckpoint {
    static let legacyMagic = "0x1950a86a20f9469cfc6c"

    public static func read(_ url: URL) throws -> [String: Tensor] {
        try isZip(url) ? readZip(url) : readLegacy(url)
    }

    /// Whether the file starts with a zip header (torch.save since 1.6, and TorchScript archives).
    static func isZip(_ url: URL) throws -> Bool {
        let handle = try FileHandle(forReadingFrom: url)
        let magic = try handle.read(upToCount: 4) ?? Data()
        try handle.close()
        return magic.starts(with: [0x50, 0x4B, 0x03, 0x04])
    }

    static func readZip(_ url: URL) throws -> [String: Tensor] {
        guard let archive = vt_archive_open(url.path) else { throw TorchError.lastError("opening \(url.path)") }
        defer { vt_archive_close(archive) }
        if try TorchScriptArchive.isArchive(archive, source: url.path) {
            throw CheckpointFormatError(source: url.path, reason: "a TorchScript archive (torch.jit.save, as OpenAI's released CLIP files), not a torch.save file; `vlp import --from open-clip` reads CLIP archives through libtorch's TorchScript loader")
        }
        func record(_ name: String) throws -> Data {
            var pointer: UnsafeMutableRawPointer?
            var size = 0
            try check(vt_archive_read(archive, name, &pointer, &size), "reading \(name) of \(url.path)")
            return Data(bytesNoCopy: pointer!, count: size, deallocator: .free)
        }
        var unpickler = RestrictedUnpickler(data: try record("data.pkl"), source: url.path)
        let object = try unpickler.unpickle()
        return try unpickler.tensors(from: object) { key in try record("data/\(key)") }
    }

    static func readLegacy(_ url: URL) throws -> [String: Tensor] {
        var unpickler = RestrictedUnpickler(data: try Data(contentsOf: url, options: .alwaysMapped), source: url.path)
        guard case .string(legacyMagic) = try unpickler.unpickle() else {
            throw CheckpointFormatError(source: url.path, reason: "not a PyTorch file (no zip header and no legacy magic number)")
        }
        guard case .int(1001) = try unpickler.unpickle() else {
            throw CheckpointFormatError(source: url.path, reason: "unsupported legacy protocol version")
        }
        _ = try unpickler.unpickle()  // sys-info; byte counts are checked per storage instead
        let object = try unpickler.unpickle()
        guard case .list(let keys) = try unpickler.unpickle() else {
            throw CheckpointFormatError(source: url.path, reason: "storage key list missing after the object")
        }
        var storages: [String: Data] = [:]
        for keyValue in keys.items {
            guard case .string(let key) = keyValue else { throw CheckpointFormatError(source: url.path, reason: "storage key is not a string") }
            guard let dtype = unpickler.storageDTypes[key] else {
                throw CheckpointFormatError(source: url.path, reason: "storage \(key) is listed but never referenced")
            }
            let count = try unpickler.readInt64()
            guard count >= 0, let byteCount = SafeTensors.byteCount([count], dtype) else {
                throw CheckpointFormatError(source: url.path, reason: "storage \(key) claims \(count) elements, which no file can hold")
            }
            storages[key] = try unpickler.rawBytes(byteCount, for: key)
        }
        return try unpickler.tensors(from: object) { key in
            guard let data = storages[key] else { throw CheckpointFormatError(source: url.path, reason: "missing storage \(key)") }
            return data
        }
    }
}
