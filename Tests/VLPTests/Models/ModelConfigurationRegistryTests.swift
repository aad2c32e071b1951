import Foundation
import Torch
import XCTest
@testable import VLP

final class ModelConfigurationRegistryTests: TorchTestCase {
    func testListsTheShippedConfigurations() {
        let names = ModelConfigurationRegistry.list()
        for name in ["r2d2-tiny", "r2d2-vit-b16-roberta-base", "r2d2-vit-l14-roberta-large"] {
            XCTAssertTrue(names.contains(name), "\(name) not in \(names)")
        }
        XCTAssertFalse(names.contains("README"))
        XCTAssertEqual(names, names.sorted())
    }

    func testEveryConfigurationLoadsAndValidates() throws {
        for name in ModelConfigurationRegistry.list() {
            XCTAssertNoThrow(try ModelConfigurationRegistry.load(name), name)
        }
        let large = try ModelConfigurationRegistry.load("r2d2-vit-l14-roberta-large")
        XCTAssertEqual(large.vision.vit?.patchSize, 14)
        XCTAssertEqual(large.vision.width, 1024)
        XCTAssertEqual(large.text.hiddenSize, 1024)
        XCTAssertEqual(large.text.bert?.layers, 24)
        XCTAssertEqual(large.embedDim, 768)
        let base = try ModelConfigurationRegistry.load("r2d2-vit-b16-roberta-base")
        XCTAssertEqual(base.vision.vit?.gridSize, 14)
        XCTAssertEqual(base.text.vocabularySize, 21128)
    }

    /// The tiny configuration builds real modules that run together on the CPU.
    func testTinyConfigurationBuildsRunnableEncoders() throws {
        let c = try ModelConfigurationRegistry.load("r2d2-tiny")
        XCTAssertEqual(c.vision.imageSize, 32)
        XCTAssertEqual(c.vision.vit?.patchSize, 8)
        let text = try BertModel(try XCTUnwrap(c.text.bert), withPooler: false)
        let vision = try VisionTransformer(try XCTUnwrap(c.vision.vit))
        let textCross = try CrossEncoder(try XCTUnwrap(c.textCross))
        let imageCross = try CrossEncoder(try XCTUnwrap(c.imageCross))
        let ids = try Tensor.randint(0, c.text.vocabularySize, [2, 9])
        let textStates = try text(ids).hiddenStates
        let imageStates = try vision(Tensor.randn([2, 3, 32, 32])).hiddenStates
        XCTAssertEqual(imageStates.shape, [2, 17, 64])
        XCTAssertEqual(try textCross(queries: textStates, context: imageStates).hiddenStates.shape, [2, 9, 64])
        XCTAssertEqual(try imageCross(queries: imageStates, context: textStates).hiddenStates.shape, [2, 17, 64])
    }

    func testUnknownNameAndBadFilesAreNamed() throws {
        XCTAssertThrowsError(try ModelConfigurationRegistry.load("r2d2-huge")) { error in
            XCTAssertTrue("\(error)".contains("r2d2-huge"), "\(error)")
            XCTAssertTrue("\(error)".contains("r2d2-tiny"), "the error lists what is available: \(error)")
        }
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        var tiny = try ModelConfigurationRegistry.load("r2d2-tiny")
        tiny.textCross?.contextInputWidth = 32
        let url = folder.appendingPathComponent("mismatch.json")
        try JSONEncoder().encode(tiny).write(to: url)
        XCTAssertThrowsError(try ModelConfigurationRegistry.load(contentsOf: url)) { error in
            XCTAssertTrue("\(error)".contains("text_cross"), "\(error)")
        }
        let broken = folder.appendingPathComponent("broken.json")
        try Data("{\"architecture\": \"r2d2\"}".utf8).write(to: broken)
        XCTAssertThrowsError(try ModelConfigurationRegistry.load(contentsOf: broken)) { error in
            XCTAssertTrue("\(error)".contains("broken.json"), "\(error)")
        }
    }
}
