import Foundation

/// NumPy's `.npy` format, version 1.0, for little-endian float32 arrays: the magic `\x93NUMPY`,
/// version bytes 1 0, a little-endian uint16 header length, an ASCII Python-dict header
/// (`{'descr': '<f4', 'fortran_order': False, 'shape': (N, D), }`) padded with spaces and a
/// newline so the data starts at a multiple of 64 bytes, then the C-order data.
public enum NumpyArrayFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The bytes of a float32 array of `shape` (row-major `values`).
    public static func encode(_ values: [Float], shape: [Int]) throws -> Data {
        guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
            throw ModelError.invalidInput(name: "shape", reason: "\(shape) does not hold \(values.count) values")
        }
        let dims = shape.map(String.init).joined(separator: ", ") + (shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(dims)), }"
        let unpadded = magic.count + 2 + 2 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        values.withUnsafeBufferPointer { buffer in
            for v in buffer { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        }
        return data
    }

    /// Writes atomically (a temporary file renamed over `url`).
    public static func write(_ values: [Float], shape: [Int], to url: URL) throws {
        let data = try encode(values, shape: shape)
        do { try data.write(to: url, options: .atomic) } catch {
            throw ModelError.unreadableFile(path: url.path, reason: "cannot write: \(error.localizedDescription)")
        }
    }

    /// Reads a version 1.0 little-endian C-order file of float32 (as `write` makes them), or of
    /// int32 / int64 (a detector's class ids, as NumPy saves integer arrays), as floats.
    public static func read(_ url: URL) throws -> (shape: [Int], values: [Float]) {
        func fail(_ reason: String) -> ModelError { .unreadableFile(path: url.path, reason: reason) }
        let bytes = [UInt8](try Data(contentsOf: url))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file (no \\x93NUMPY magic)") }
        guard bytes[6] == 1 else { throw fail("only .npy version 1.x is read, found \(bytes[6]).\(bytes[7])") }
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + headerLength else { throw fail("header runs past the end of the file") }
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        let width: Int, isInteger: Bool
        if header.contains("'descr': '<f4'") { (width, isInteger) = (4, false) }
        else if header.contains("'descr': '<i4'") { (width, isInteger) = (4, true) }
        else if header.contains("'descr': '<i8'") { (width, isInteger) = (8, true) }
        else { throw fail("only little-endian float32, int32 or int64 ('<f4', '<i4', '<i8') is read; header \(header)") }
        guard header.contains("'fortran_order': False") else { throw fail("Fortran-order arrays are not read") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("no shape in header \(header)")
        }
        let shape = try header[open.upperBound..<close].split(separator: ",").map { part -> Int in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)) else { throw fail("bad shape in header \(header)") }
            return n
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard dimension >= 0, !overflow else { throw fail("shape \(shape) has a negative dimension or more elements than fit in 64 bits") }
            count = product
        }
        let start = 10 + headerLength
        guard (bytes.count - start) % width == 0, count == (bytes.count - start) / width else {
            throw fail("holds \(bytes.count - start) data bytes, shape \(shape) needs \(count) values of \(width) bytes")
        }
        let values = (0..<count).map { i -> Float in
            let o = start + width * i
            var bits: UInt64 = 0
            for b in 0..<width { bits |= UInt64(bytes[o + b]) << (8 * b) }
            guard isInteger else { return Float(bitPattern: UInt32(truncatingIfNeeded: bits)) }
            return width == 4 ? Float(Int32(bitPattern: UInt32(truncatingIfNeeded: bits))) : Float(Int64(bitPattern: bits))
        }
        return (shape, values)
    }
}
