import Foundation
import Torch

/// A foreign checkpoint's tensors as an importer consumes them: each key is either taken (with
/// its shape checked, and converted to float32 — released checkpoints are often fp16) or set
/// aside as deliberately ignored, and `finish()` refuses any key left over. Every error names the
/// key and the file, so a renamed key, a wrong-shaped tensor or a foreign checkpoint is reported
/// as such rather than loaded half-way.
struct SourceTensors {
    let source: String
    private var remaining: [String: Tensor]
    /// Keys set aside on purpose, sorted when read.
    private var ignoredKeys: [String] = []
    /// How many taken tensors were stored in another floating-point type (fp16, bf16, fp64).
    private(set) var convertedCount = 0

    init(_ tensors: [String: Tensor], source: String) {
        self.remaining = tensors
        self.source = source
    }

    var ignored: [String] { ignoredKeys.sorted() }

    /// Keys not yet taken or ignored.
    var keys: Dictionary<String, Tensor>.Keys { remaining.keys }

    func contains(_ key: String) -> Bool { remaining[key] != nil }

    func fail(_ reason: String) -> ModelError { .invalidCheckpoint(source: source, reason: reason) }

    /// The shape of `key`, which must be there with `rank` dimensions.
    func shape(of key: String, rank: Int) throws -> [Int] {
        guard let tensor = remaining[key] else { throw fail("missing key \(key)") }
        guard tensor.rank == rank else {
            throw fail("\(key) has shape \(tensor.shape), expected \(rank) dimension\(rank == 1 ? "" : "s")")
        }
        return tensor.shape
    }

    /// The side of the square patch grid a ViT's position table `key` ([1 + side², width]: the
    /// class token's row, then one per patch) was made for.
    func patchGridSide(positionTable key: String) throws -> Int {
        let rows = try shape(of: key, rank: 2)[0]
        let side = Int(Double(max(rows - 1, 0)).squareRoot().rounded())
        guard rows > 1, side * side == rows - 1 else { throw fail("\(key) has \(rows) rows, expected 1 + a square number of patches") }
        return side
    }

    /// Takes `key`, which must have exactly `shape`, as float32.
    mutating func take(_ key: String, shape: [Int]) throws -> Tensor {
        guard let tensor = remaining.removeValue(forKey: key) else { throw fail("missing key \(key)") }
        guard tensor.shape == shape else { throw fail("\(key) has shape \(tensor.shape), expected \(shape)") }
        guard tensor.dtype.isFloatingPoint else { throw fail("\(key) holds \(tensor.dtype) values, expected floating point") }
        if tensor.dtype == .float32 { return tensor }
        convertedCount += 1
        return try tensor.to(.float32)
    }

    /// Takes `key` if it is there: a batch norm's `num_batches_tracked`, an integer scalar that
    /// evaluation never reads (some saves leave it out).
    mutating func takeCounter(_ key: String) throws -> Tensor? {
        guard let tensor = remaining.removeValue(forKey: key) else { return nil }
        guard tensor.rank == 0, !tensor.dtype.isFloatingPoint else { throw fail("\(key) has shape \(tensor.shape) and type \(tensor.dtype), expected an integer scalar (a batch norm's step count)") }
        return try tensor.to(.int64)
    }

    /// Sets aside every remaining key that `isIgnored` accepts.
    mutating func ignore(where isIgnored: (String) -> Bool) {
        for key in remaining.keys where isIgnored(key) {
            remaining.removeValue(forKey: key)
            ignoredKeys.append(key)
        }
    }

    /// Throws naming the keys neither taken nor ignored.
    func finish() throws {
        guard remaining.isEmpty else {
            let keys = remaining.keys.sorted()
            let shown = keys.prefix(10).joined(separator: ", ") + (keys.count > 10 ? ", … (\(keys.count) in all)" : "")
            throw fail("unexpected key\(keys.count == 1 ? "" : "s") \(shown)")
        }
    }

    /// The distinct `N` of keys `prefix + N + "."`, checked to run 0..<count without gaps.
    func blockCount(prefix: String) throws -> Int {
        var indices = Set<Int>()
        for key in remaining.keys where key.hasPrefix(prefix) {
            let rest = key.dropFirst(prefix.count)
            guard let dot = rest.firstIndex(of: "."), let index = Int(rest[..<dot]), index >= 0 else {
                throw fail("unexpected key \(key) (expected \(prefix)N.…)")
            }
            indices.insert(index)
        }
        for index in 0..<indices.count where !indices.contains(index) {
            throw fail("block \(prefix)\(index) is missing (blocks found: \(indices.sorted().map(String.init).joined(separator: ", ")))")
        }
        return indices.count
    }
}
