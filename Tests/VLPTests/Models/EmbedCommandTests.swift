import Foundation
import Torch
import XCTest
@testable import VLP

/// `vlp embed` run as the built executable.
final class EmbedCommandTests: TorchTestCase {
    /// A checkpoint whose weights are cut short is named with its own error (it once fell
    /// through to the EfficientNet reader: "unknown weights format .").
    func testTruncatedCheckpointWeightsAreNamed() throws {
        let root = try temporaryFolder("embed-truncated")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = root.appendingPathComponent("run").path
        try filterTestCheckpoint(run)
        XCTAssertTrue(TrainingCheckpoint.isCheckpoint(run))
        XCTAssertFalse(TrainingCheckpoint.isCheckpoint(root.path))
        let weights = try TrainingCheckpoint.resolve(run).appendingPathComponent(TrainingCheckpoint.modelFile)
        let whole = try Data(contentsOf: weights)
        try whole.prefix(whole.count / 2).write(to: weights)
        let image = root.appendingPathComponent("image.ppm")
        try dataTestPPM(dataTestImage(seed: 1)).write(to: image)

        for (modality, input) in [("text", "红色的圆形"), ("image", image.path)] {
            let embedded = try runVLP(["embed", modality, "--checkpoint", run, "--json", input])
            XCTAssertNotEqual(embedded.status, 0, modality)
            XCTAssertEqual(embedded.errors.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, embedded.errors)
            XCTAssertTrue(embedded.errors.contains("safetensors \(weights.path)"), embedded.errors)
            XCTAssertFalse(embedded.errors.contains("unknown weights format"), embedded.errors)
        }
    }
}
