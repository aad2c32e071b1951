import Foundation

/// The safetensors format: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`),
/// then the raw little-endian tensor data. Read by memory-mapping the file; written atomically.
public enum SafeTensors {
    public struct FormatError: Error, CustomStringConvertible {
        public let path: String
        public let reason: String
        public var description: String { "safetensors \(path): \(reason)" }
    }

    /// The longest JSON header read (the reference implementation's limit too).
    public static let maxHeaderLength: UInt64 = 100_000_000

    static let codes: [DType: String] = [
        .float64: "F64", .float32: "F32", .float16: "F16", .bfloat16: "BF16", .int64: "I64", .int32: "I32",
        .int16: "I16", .int8: "I8", .uint8: "U8", .bool: "BOOL",
    ]
    static let dtypes = Dictionary(uniqueKeysWithValues: codes.map { ($1, $0) })

    /// Reads every tensor (to the CPU) and the metadata strings.
    public static func read(_ url: URL) throws -> (tensors: [String: Tensor], metadata: [String: String]) {
        let mapping = try MappedFile(path: url.path)
        let (entries, metadata) = try parse(mapping.bytes, path: url.path)
        var tensors: [String: Tensor] = [:]
        for entry in entries { tensors[entry.name] = try Tensor(bytes: entry.bytes, shape: entry.shape, dtype: entry.dtype) }
        return (tensors, metadata)
    }

    /// Runs `body` on the file's tensors read in place from its memory mapping, not copied, so
    /// loading a model holds its weights once rather than twice; the tensors are valid only inside
    /// `body` and must not be written to or kept (copy what outlives it). A tensor whose data is
    /// not aligned to its element size is copied instead.
    public static func withTensors<R>(_ url: URL, _ body: ([String: Tensor], [String: String]) throws -> R) throws -> R {
        let mapping = try MappedFile(path: url.path)
        return try withExtendedLifetime(mapping) {
            let (entries, metadata) = try parse(mapping.bytes, path: url.path)
            var tensors: [String: Tensor] = [:]
            for entry in entries {
                let aligned = entry.bytes.baseAddress.map { Int(bitPattern: $0) % entry.dtype.byteSize == 0 } ?? false
                tensors[entry.name] = aligned ? try Tensor(borrowing: entry.bytes, shape: entry.shape, dtype: entry.dtype)
                                              : try Tensor(bytes: entry.bytes, shape: entry.shape, dtype: entry.dtype)
            }
            return try body(tensors, metadata)
        }
    }

    /// One tensor's place in the file.
    struct Entry {
        var name: String
        var bytes: UnsafeRawBufferPointer
        var shape: [Int]
        var dtype: DType
    }

    /// The header's entries, each checked against the data section, and the metadata strings.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (entries: [Entry], metadata: [String: String]) {
        func fail(_ reason: String) -> FormatError { FormatError(path: path, reason: reason) }
        guard bytes.count >= 8 else { throw fail("file is \(bytes.count) bytes, shorter than the 8-byte header length") }
        let headerLength = bytes.loadUnaligned(as: UInt64.self).littleEndian
        guard headerLength <= UInt64(bytes.count - 8) else {
            throw fail("header length \(headerLength) exceeds the file (\(bytes.count) bytes)")
        }
        guard headerLength <= maxHeaderLength else {
            throw fail("header length \(headerLength) exceeds the limit of \(maxHeaderLength) bytes")
        }
        let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + Int(headerLength))])
        guard let header = try? JSONSerialization.jsonObject(with: Data(headerBytes)) as? [String: Any] else {
            throw fail("header is not a JSON object")
        }
        let dataStart = 8 + Int(headerLength)
        let dataLength = bytes.count - dataStart
        var entries: [Entry] = []
        var metadata: [String: String] = [:]
        for (name, entry) in header {
            if name == "__metadata__" {
                metadata = (entry as? [String: String]) ?? [:]
                continue
            }
            guard let info = entry as? [String: Any], let code = info["dtype"] as? String,
                  let shape = info["shape"] as? [Int], let offsets = info["data_offsets"] as? [Int], offsets.count == 2
            else { throw fail("entry \(name) lacks dtype, shape or data_offsets") }
            guard let dtype = dtypes[code] else { throw fail("entry \(name) has unsupported dtype \(code)") }
            guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("entry \(name) has a negative dimension in \(shape)") }
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= dataLength else {
                throw fail("entry \(name) has data_offsets [\(begin), \(end)] outside the \(dataLength)-byte data section")
            }
            guard let expected = byteCount(shape, dtype) else {
                throw fail("entry \(name) has shape \(shape), whose byte count does not fit in 64 bits")
            }
            guard expected == end - begin else {
                throw fail("entry \(name) holds \(end - begin) bytes, its shape \(shape) of \(code) needs \(expected)")
            }
            entries.append(Entry(name: name, bytes: UnsafeRawBufferPointer(rebasing: bytes[(dataStart + begin)..<(dataStart + end)]),
                                 shape: shape, dtype: dtype))
        }
        return (entries, metadata)
    }

    /// The bytes a tensor of `shape` and `dtype` takes; nil when that does not fit in an `Int`
    /// (a crafted shape such as [2^32, 2^32, 4]).
    static func byteCount(_ shape: [Int], _ dtype: DType) -> Int? {
        if shape.contains(0) { return 0 }
        var count = dtype.byteSize
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            if overflow { return nil }
            count = product
        }
        return count
    }

    /// Writes tensors (any device; stored contiguous, little-endian) and metadata, atomically:
    /// a temporary file in the same folder renamed over the destination.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        var header: [String: Any] = [:]
        if !metadata.isEmpty { header["__metadata__"] = metadata }
        var payloads: [Data] = []
        var offset = 0
        for name in tensors.keys.sorted() {
            let tensor = tensors[name]!
            guard let code = codes[tensor.dtype] else {
                throw FormatError(path: url.path, reason: "tensor \(name) has dtype \(tensor.dtype) with no safetensors code")
            }
            let data = try tensor.rawBytes()
            header[name] = ["dtype": code, "shape": tensor.shape, "data_offsets": [offset, offset + data.count]] as [String: Any]
            offset += data.count
            payloads.append(data)
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces so the data starts 8-byte aligned, as the reference writer does.
        while (8 + json.count) % 8 != 0 { json.append(0x20) }
        var file = Data()
        file.reserveCapacity(8 + json.count + offset)
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        for p in payloads { file.append(p) }
        try AtomicFile.write(file, to: url)
    }
}

extension Tensor {
    /// The elements' bytes in row-major order (copied to the CPU).
    public func rawBytes() throws -> Data {
        let n = count * dtype.byteSize
        var data = Data(count: n)
        if n > 0 {
            try data.withUnsafeMutableBytes { buffer in
                try check(vt_copy_to(handle, buffer.baseAddress!, n), "rawBytes of \(shape)")
            }
        }
        return data
    }
}

import CTorch
