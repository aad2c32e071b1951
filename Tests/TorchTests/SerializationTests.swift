import Foundation
import XCTest
@testable import Torch

final class SerializationTests: TorchTestCase {
    var folder: URL!

    override func setUpWithError() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("torch-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: folder)
    }

    func testSafeTensorsRoundTripIsExact() throws {
        let tensors: [String: Tensor] = [
            "a.weight": try Tensor.randn([3, 4]), "a.bias": try Tensor.randn([4], dtype: .float64),
            "half": try Tensor.randn([2, 2], dtype: .float16), "bf": try Tensor.randn([5], dtype: .bfloat16),
            "ids": try Tensor.randint(0, 100, [7]), "mask": try Tensor([true, false, true]),
            "bytes": try Tensor([1, 2, 255] as [UInt8]), "empty": try Tensor.zeros([0, 3]),
            "transposed": try Tensor.randn([3, 2]).transposed(0, 1),
        ]
        let url = folder.appendingPathComponent("m.safetensors")
        try SafeTensors.write(tensors, metadata: ["format": "pt"], to: url)
        let (loaded, metadata) = try SafeTensors.read(url)
        XCTAssertEqual(metadata, ["format": "pt"])
        XCTAssertEqual(Set(loaded.keys), Set(tensors.keys))
        for (name, t) in tensors {
            XCTAssertEqual(loaded[name]!.dtype, t.dtype, name)
            XCTAssertEqual(try loaded[name]!.rawBytes(), try t.contiguous().rawBytes(), name)
        }
        // Read in place (the unaligned entries — the 1- and 3-byte ones shift the rest — copied):
        // the same values, and a module loads from them.
        try SafeTensors.withTensors(url) { borrowed, metadata in
            XCTAssertEqual(metadata, ["format": "pt"])
            XCTAssertEqual(Set(borrowed.keys), Set(tensors.keys))
            for (name, t) in tensors {
                XCTAssertEqual(borrowed[name]!.dtype, t.dtype, name)
                XCTAssertEqual(try borrowed[name]!.rawBytes(), try t.contiguous().rawBytes(), name)
            }
        }
        let module = try TinyEncoder()
        let saved = try TinyEncoder()
        let weights = folder.appendingPathComponent("tiny.safetensors")
        try SafeTensors.write(Dictionary(uniqueKeysWithValues: saved.stateDict().map { ($0.name, $0.tensor) }), to: weights)
        try SafeTensors.withTensors(weights) { borrowed, _ in _ = try module.loadStateDict(borrowed) }
        for (mine, theirs) in zip(module.stateDict(), saved.stateDict()) {
            XCTAssertEqual(try mine.tensor.rawBytes(), try theirs.tensor.rawBytes(), mine.name)
        }
    }

    func testModuleStateDictRoundTrip() throws {
        let a = try TinyEncoder(), b = try TinyEncoder()
        let url = folder.appendingPathComponent("model.safetensors")
        try SafeTensors.write(Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) }), to: url)
        try b.loadStateDict(try SafeTensors.read(url).tensors)
        let ids = try Tensor.randint(0, 11, [2, 5])
        a.eval(); b.eval()
        try assertClose(try b(ids), try a(ids), tolerance: 0)
    }

    func testCorruptSafeTensorsFilesAreNamedErrors() throws {
        let good = folder.appendingPathComponent("good.safetensors")
        try SafeTensors.write(["x": try Tensor.randn([4, 4])], to: good)
        let bytes = try Data(contentsOf: good)
        let cases: [(String, Data)] = [
            ("empty", Data()),
            ("truncated", bytes.prefix(bytes.count - 10)),
            ("huge header", Data([0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0]) + bytes.dropFirst(8)),
            ("not json", Data([8, 0, 0, 0, 0, 0, 0, 0]) + Data("nonsense".utf8)),
        ]
        for (name, data) in cases {
            let url = folder.appendingPathComponent("\(name).safetensors")
            try data.write(to: url)
            XCTAssertThrowsError(try SafeTensors.read(url), name) { error in
                XCTAssertTrue("\(error)".contains(url.path), "\(name): \(error)")
            }
        }
        XCTAssertThrowsError(try SafeTensors.read(folder.appendingPathComponent("missing.safetensors")))
    }

    func testReadsPythonWrittenSafeTensors() throws {
        XCTAssertEqual(Fixtures.ops["matmul.out"]?.shape, [3, 5])
    }

    func testPyTorchCheckpointsZipAndLegacy() throws {
        let expected = try SafeTensors.read(Fixtures.url("checkpoint_expected.safetensors")).tensors
        for file in ["checkpoint_zip.pt", "checkpoint_legacy.pt"] {
            let loaded = try PyTorchCheckpoint.read(Fixtures.url(file))
            XCTAssertEqual(Set(loaded.keys), Set(expected.keys), file)
            for (name, t) in expected {
                XCTAssertEqual(loaded[name]?.dtype, t.dtype, "\(file) \(name)")
                XCTAssertEqual(try loaded[name]?.rawBytes(), try t.rawBytes(), "\(file) \(name)")
            }
        }
    }

    func testLegacyReaderRefusesCode() throws {
        // A legacy header followed by a pickle calling os.system: GLOBAL 'os system', args, REDUCE.
        var data = Data()
        data += [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19, 0x2E]  // magic
        data += [0x80, 0x02, 0x4D, 0xE9, 0x03, 0x2E]  // 1001
        data += [0x80, 0x02, 0x7D, 0x2E]  // {}
        data += [0x80, 0x02, 0x63] + Data("os\nsystem\n".utf8) + [0x58, 2, 0, 0, 0] + Data("ls".utf8) + [0x85, 0x52, 0x2E]
        let url = folder.appendingPathComponent("evil.pt")
        try data.write(to: url)
        XCTAssertThrowsError(try PyTorchCheckpoint.read(url)) { error in
            XCTAssertTrue("\(error)".contains("refusing global os.system"), "\(error)")
        }
        let truncated = folder.appendingPathComponent("truncated.pt")
        try Data(try Data(contentsOf: Fixtures.url("checkpoint_legacy.pt")).dropLast(20)).write(to: truncated)
        XCTAssertThrowsError(try PyTorchCheckpoint.read(truncated)) { error in
            XCTAssertTrue("\(error)".contains("truncated"), "\(error)")
        }
    }

    /// The real EfficientNet-Lite0 ImageNet weights (legacy format, fetched by `make assets`)
    /// read exactly as torch.load reads them.
    func testRealLegacyCheckpointMatchesTorchLoad() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let url = root.appendingPathComponent("assets/efficientnet-lite0/efficientnet-lite0-57934424.pth")
        guard FileManager.default.fileExists(atPath: url.path) else {
            return XCTFail("\(url.path) is missing: run `make assets`")
        }
        let summary = try JSONSerialization.jsonObject(with: Data(contentsOf: Fixtures.url("efficientnet_lite0_summary.json"))) as! [String: [String: Any]]
        let loaded = try PyTorchCheckpoint.read(url)
        XCTAssertEqual(Set(loaded.keys), Set(summary.keys))
        for (name, info) in summary {
            guard let t = loaded[name] else { continue }
            XCTAssertEqual(t.shape, info["shape"] as? [Int], name)
            let sum = try t.to(.float64).sum().item()
            XCTAssertEqual(sum, info["sum"] as! Double, accuracy: 1e-6 * (1 + abs(sum)), name)
        }
    }
}
