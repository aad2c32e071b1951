import Foundation
import XCTest
@testable import Torch

/// Weight files crafted to overflow or exhaust the readers (each once crashed every command
/// loading it): every one must be an error naming the file and what is wrong. Each crafted
/// file has a well-formed twin that reads, so the error comes from the check under test.
final class CraftedWeightsTests: TorchTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("crafted-weights-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func write(_ data: Data, _ name: String) throws -> URL {
        let url = folder.appendingPathComponent(name)
        try data.write(to: url)
        return url
    }

    func assertError(_ read: @autoclosure () throws -> Any, contains parts: [String], file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try read(), file: file, line: line) { error in
            for part in parts { XCTAssertTrue("\(error)".contains(part), "\(error) lacks \(part)", file: file, line: line) }
        }
    }

    // MARK: safetensors

    func safeTensors(shape: [Int], offsets: [Int], data: Data) -> Data {
        var json = Data("{\"x\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":\(offsets)}}".utf8)
        while json.count % 8 != 0 { json.append(0x20) }
        return withUnsafeBytes(of: UInt64(json.count).littleEndian) { Data($0) } + json + data
    }

    func testSafeTensorsShapeWhoseByteCountOverflowsIsAnError() throws {
        let good = try write(safeTensors(shape: [1, 1], offsets: [0, 4], data: Data(count: 4)), "good.safetensors")
        XCTAssertEqual(try SafeTensors.read(good).tensors["x"]?.shape, [1, 1])
        // 2^62 × 4 elements × 4 bytes wraps to 0, the length of the (empty) data section.
        let crafted = try write(safeTensors(shape: [1 << 62, 4], offsets: [0, 0], data: Data()), "overflow.safetensors")
        assertError(try SafeTensors.read(crafted), contains: [crafted.path, "entry x", "does not fit in 64 bits"])
        let huge = try write(safeTensors(shape: [1 << 32, 1 << 32, 4], offsets: [0, 4], data: Data(count: 4)), "huge.safetensors")
        assertError(try SafeTensors.read(huge), contains: [huge.path, "does not fit in 64 bits"])
        // An empty dimension makes an empty tensor whatever the others say.
        let empty = try write(safeTensors(shape: [1 << 62, 0, 1 << 62], offsets: [0, 0], data: Data()), "empty.safetensors")
        XCTAssertEqual(try SafeTensors.read(empty).tensors["x"]?.count, 0)
    }

    func testSafeTensorsHeaderOverTheLimitNamesTheLimit() throws {
        let length = SafeTensors.maxHeaderLength + 1
        let url = try write(withUnsafeBytes(of: length.littleEndian) { Data($0) } + Data(repeating: 0x20, count: Int(length)), "big.safetensors")
        assertError(try SafeTensors.read(url), contains: [url.path, "limit of \(SafeTensors.maxHeaderLength) bytes"])
    }

    // MARK: pickles

    /// Pickle opcodes, protocol 2.
    enum Pickle {
        static func string(_ s: String) -> Data { Data([0x58]) + le32(s.utf8.count) + Data(s.utf8) }
        static func le32(_ n: Int) -> Data { withUnsafeBytes(of: UInt32(n).littleEndian) { Data($0) } }
        static func int(_ n: Int) -> Data {                       // LONG1, 8 bytes
            Data([0x8A, 8]) + withUnsafeBytes(of: Int64(n).littleEndian) { Data($0) }
        }
        static func ints(_ values: [Int]) -> Data { Data([0x28]) + values.map(int).reduce(Data(), +) + Data([0x74]) }
        /// `_rebuild_tensor_v2((storage, FloatStorage, key, cpu, count), offset, size, stride, False, {})`.
        static func tensor(key: String, count: Int, offset: Int, size: [Int], stride: [Int]) -> Data {
            var d = Data([0x63]) + Data("torch._utils\n_rebuild_tensor_v2\n".utf8) + Data([0x28])
            d += Data([0x28]) + string("storage") + Data([0x63]) + Data("torch\nFloatStorage\n".utf8) + string(key) + string("cpu")
            d += int(count) + Data([0x74, 0x51])                  // TUPLE, BINPERSID
            d += int(offset) + ints(size) + ints(stride) + Data([0x89, 0x7D, 0x74, 0x52])   // False, {}, TUPLE, REDUCE
            return d
        }
        /// `{name: value}` as one pickle.
        static func dict(_ name: String, _ value: Data) -> Data { Data([0x80, 0x02, 0x7D]) + string(name) + value + Data([0x73, 0x2E]) }
    }

    /// A legacy (pre-1.6) file: magic, protocol 1001, sys info, the object, the storage keys,
    /// then each storage as an int64 element count and its float32 bytes.
    func legacy(object: Data, storages: [(key: String, count: Int, bytes: Data)]) -> Data {
        var d = Data([0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E])  // magic
        d += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E, 0x80, 0x02, 0x7D, 0x2E]                                     // 1001, {}
        d += object
        d += Data([0x80, 0x02, 0x5D, 0x28]) + storages.map { Pickle.string($0.key) }.reduce(Data(), +) + Data([0x65, 0x2E])
        for storage in storages {
            d += withUnsafeBytes(of: Int64(storage.count).littleEndian) { Data($0) } + storage.bytes
        }
        return d
    }

    func testLegacyStorageCountThatOverflowsIsAnError() throws {
        let object = Pickle.dict("w", Pickle.tensor(key: "0", count: 2, offset: 0, size: [2], stride: [1]))
        let values = [Float(1.5), -2].withUnsafeBytes { Data($0) }
        let good = try write(legacy(object: object, storages: [("0", 2, values)]), "good.pt")
        XCTAssertEqual(try PyTorchCheckpoint.read(good)["w"]?.floats(), [1.5, -2])
        let crafted = try write(legacy(object: object, storages: [("0", 1 << 62, values)]), "count.pt")
        assertError(try PyTorchCheckpoint.read(crafted), contains: [crafted.path, "storage 0 claims \(1 << 62) elements"])
        let negative = try write(legacy(object: object, storages: [("0", -1, values)]), "negative.pt")
        assertError(try PyTorchCheckpoint.read(negative), contains: [negative.path, "storage 0 claims -1 elements"])
        // A count that fits but is more than the file holds.
        let long = try write(legacy(object: object, storages: [("0", 1 << 40, values)]), "long.pt")
        assertError(try PyTorchCheckpoint.read(long), contains: [long.path, "storage 0 needs \(4 << 40) bytes"])
    }

    /// A zip `.pt` as torch.save writes it (stored, uncompressed): `<name>/data.pkl`,
    /// `<name>/data/<key>` per storage, `<name>/version`.
    func zipCheckpoint(object: Data, storages: [String: Data]) -> Data {
        var entries = [("archive/data.pkl", object)]
        entries += storages.sorted { $0.key < $1.key }.map { ("archive/data/\($0.key)", $0.value) }
        entries.append(("archive/version", Data("3\n".utf8)))
        return StoredZip.make(entries)
    }

    func testZipTensorWhoseSizeTimesStrideOverflowsIsAnError() throws {
        let storage = [Float(3), 4].withUnsafeBytes { Data($0) }
        let good = try write(zipCheckpoint(object: Pickle.dict("w", Pickle.tensor(key: "0", count: 2, offset: 0, size: [2], stride: [1])),
                                           storages: ["0": storage]), "good.pt")
        XCTAssertEqual(try PyTorchCheckpoint.read(good)["w"]?.floats(), [3, 4])
        // (2^40 + 1 - 1) × 2^40 does not fit in 64 bits.
        let crafted = try write(zipCheckpoint(object: Pickle.dict("w", Pickle.tensor(key: "0", count: 2, offset: 0, size: [(1 << 40) + 1], stride: [1 << 40])),
                                              storages: ["0": storage]), "stride.pt")
        assertError(try PyTorchCheckpoint.read(crafted), contains: [crafted.path, "tensor w", "exceeds its storage of 2"])
        // Sizes whose element count overflows, even with zero strides that stay inside the storage.
        let count = try write(zipCheckpoint(object: Pickle.dict("w", Pickle.tensor(key: "0", count: 2, offset: 0, size: [1 << 32, 1 << 32], stride: [0, 0])),
                                            storages: ["0": storage]), "count.pt")
        assertError(try PyTorchCheckpoint.read(count), contains: [count.path, "tensor w", "exceeds its storage"])
        // Sizes and strides of different lengths (read past the strides, once).
        let ragged = try write(zipCheckpoint(object: Pickle.dict("w", Pickle.tensor(key: "0", count: 2, offset: 0, size: [1, 2], stride: [1])),
                                             storages: ["0": storage]), "ragged.pt")
        assertError(try PyTorchCheckpoint.read(ragged), contains: [ragged.path, "tensor w has 2 sizes but 1 strides"])
        let negative = try write(zipCheckpoint(object: Pickle.dict("w", Pickle.tensor(key: "0", count: 2, offset: 1, size: [2], stride: [-1])),
                                               storages: ["0": storage]), "negative.pt")
        assertError(try PyTorchCheckpoint.read(negative), contains: [negative.path, "exceeds its storage"])
    }

    // MARK: nesting

    /// `depth` dicts, each the only value of the one around it.
    func nestedDicts(_ depth: Int) -> Data {
        var d = Data([0x80, 0x02])
        for _ in 0..<depth - 1 { d += Data([0x7D]) + Pickle.string("a") }
        d += Data([0x7D])
        d += Data(repeating: 0x73, count: depth - 1) + Data([0x2E])
        return d
    }

    func testNestingDeeperThanTheLimitIsAnError() throws {
        let limit = RestrictedUnpickler.maxNestingDepth
        let atLimit = try write(legacy(object: nestedDicts(limit), storages: []), "at-limit.pt")
        XCTAssertEqual(try PyTorchCheckpoint.read(atLimit).count, 0)
        let deeper = try write(legacy(object: nestedDicts(limit + 1), storages: []), "deeper.pt")
        assertError(try PyTorchCheckpoint.read(deeper), contains: [deeper.path, "nested deeper than the limit of \(limit) levels"])
        // 200,000 levels once overflowed the stack.
        let deep = try write(legacy(object: nestedDicts(200_000), storages: []), "deep.pt")
        assertError(try PyTorchCheckpoint.read(deep), contains: [deep.path, "limit of \(limit) levels"])
        // Tuples nest with one stack slot: (((…),),).
        let tuples = Data([0x80, 0x02, 0x29]) + Data(repeating: 0x85, count: 200_000) + Data([0x2E])
        let deepTuples = try write(legacy(object: tuples, storages: []), "tuples.pt")
        assertError(try PyTorchCheckpoint.read(deepTuples), contains: [deepTuples.path, "limit of \(limit) levels"])
    }

    func testContainersCannotBeChangedOnceInsideAnother() throws {
        // d = {}; d["a"] = d: a cycle flattening would follow forever.
        let cycle = Data([0x80, 0x02, 0x7D, 0x94]) + Pickle.string("a") + Data([0x68, 0, 0x73, 0x2E])
        let url = try write(legacy(object: cycle, storages: []), "cycle.pt")
        assertError(try PyTorchCheckpoint.read(url), contains: [url.path, "SETITEM on a dict already inside another container"])
        // Inner dicts linked after being placed: b = {}, a = {"x": b}, then b["y"] = {} (depth would go unseen).
        var late = Data([0x80, 0x02, 0x7D, 0x94, 0x7D]) + Pickle.string("x") + Data([0x68, 0, 0x73])   // b, a = {"x": b}
        late += Data([0x68, 0]) + Pickle.string("y") + Data([0x7D, 0x73, 0x2E])                           // b["y"] = {}
        let lateURL = try write(legacy(object: late, storages: []), "late.pt")
        assertError(try PyTorchCheckpoint.read(lateURL), contains: [lateURL.path, "already inside another container"])
    }

    func testSharedDictsFlattenWithinTheLimit() throws {
        // d0 = {}; d(k) = {"a": d(k-1), "b": d(k-1)} by memo: 2^21 entries once flattened.
        var d = Data([0x80, 0x02, 0x7D, 0x94])
        for k in 1...20 {
            d += Data([0x7D, 0x28]) + Pickle.string("a") + Data([0x68, UInt8(k - 1)]) + Pickle.string("b") + Data([0x68, UInt8(k - 1), 0x75, 0x94])
        }
        d += Data([0x2E])
        let url = try write(legacy(object: d, storages: []), "shared.pt")
        assertError(try PyTorchCheckpoint.read(url), contains: [url.path, "more than \(RestrictedUnpickler.maxFlattenedEntries) dict entries"])
    }
}

/// A zip archive of stored (uncompressed) entries, enough for libtorch's archive reader.
enum StoredZip {
    static let crcTable: [UInt32] = (0..<256).map { n in
        (0..<8).reduce(UInt32(n)) { c, _ in c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    }

    static func crc32(_ data: Data) -> UInt32 {
        ~data.reduce(~UInt32(0)) { crc, byte in crcTable[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
    }

    static func make(_ entries: [(String, Data)]) -> Data {
        func le16(_ n: Int) -> Data { withUnsafeBytes(of: UInt16(n).littleEndian) { Data($0) } }
        func le32(_ n: UInt32) -> Data { withUnsafeBytes(of: n.littleEndian) { Data($0) } }
        var archive = Data()
        var directory = Data()
        for (name, data) in entries {
            let offset = UInt32(archive.count)
            // version, flags, method 0 (stored), time, date, crc, sizes, name length, extra length
            let common = le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21) + le32(crc32(data))
                + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(name.utf8.count) + le16(0)
            archive += le32(0x0403_4B50) + common + Data(name.utf8) + data
            directory += le32(0x0201_4B50) + le16(20) + common + le16(0) + le16(0) + le16(0) + le32(0) + le32(offset) + Data(name.utf8)
        }
        let directoryOffset = UInt32(archive.count)
        archive += directory
        archive += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(UInt32(directory.count)) + le32(directoryOffset) + le16(0)
        return archive
    }
}
