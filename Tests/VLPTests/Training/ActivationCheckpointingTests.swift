import Foundation
import Torch
import XCTest
@testable import VLP

/// `activation_checkpointing: true` changes memory, not numbers: the same losses and the same
/// gradients as the plain run, for every transformer stack (ViT, BERT, cross encoders, the
/// single-stream BERT, the CLIP text transformer), dropout included.
final class ActivationCheckpointingTests: TorchTestCase {
    /// Runs `steps` steps and returns the losses and the last step's gradients by parameter.
    func train(model: String, recipe: String, checkpointing: Bool, root: URL) throws -> (losses: [[String: Double]], gradients: [String: Tensor], flops: Double) {
        let name = "\(model)-\(checkpointing)"
        let run = try PretrainingRun(yaml: tinyPretrainingYAML(output: root.appendingPathComponent(name).path, steps: 3, recipe: recipe, model: model,
                                                               checkpointEvery: 3, extra: "activation_checkpointing: \(checkpointing)"))
        XCTAssertEqual(run.activationCheckpointing, checkpointing)
        let trainer = try Trainer(run)
        trainer.log = { _ in }
        var losses: [[String: Double]] = []
        trainer.onStep = { _, values in losses.append(values) }
        // The products run from Swift: forward, and with checkpointing the recomputation in backward.
        let flops = try FlopCounter.count { try trainer.run() }.flops
        var gradients: [String: Tensor] = [:]
        for (key, parameter) in trainer.model.module.namedParameters() { gradients[key] = parameter.grad }
        return (losses, gradients, flops)
    }

    func assertSameTraining(model: String, recipe: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let root = try temporaryFolder("checkpointing")
        defer { try? FileManager.default.removeItem(at: root) }
        let plain = try train(model: model, recipe: recipe, checkpointing: false, root: root)
        let recomputed = try train(model: model, recipe: recipe, checkpointing: true, root: root)
        XCTAssertEqual(plain.losses, recomputed.losses, "\(model): losses", file: file, line: line)
        XCTAssertGreaterThan(recomputed.flops, plain.flops * 1.2, "\(model): no block was recomputed", file: file, line: line)
        XCTAssertEqual(Set(plain.gradients.keys), Set(recomputed.gradients.keys), file: file, line: line)
        XCTAssertGreaterThan(plain.gradients.count, 10, file: file, line: line)
        for (key, gradient) in plain.gradients {
            let other = try XCTUnwrap(recomputed.gradients[key], "\(model): \(key) got no gradient with checkpointing", file: file, line: line)
            let difference = try (gradient - other).abs().max().item()
            let scale = try gradient.abs().max().item()
            XCTAssertLessThanOrEqual(difference, 1e-6 * max(scale, 1e-6), "\(model): \(key)", file: file, line: line)
        }
    }

    /// R2D2: ViT image tower, BERT text tower, both cross encoders (FGR, MLM), teacher (TgD, FgD).
    func testR2D2GradientsEqualThePlainRun() throws {
        try assertSameTraining(model: "r2d2-tiny", recipe: "r2d2")
    }

    /// ImageBERT: one BERT over text and regions (ITM, MLM, MRFR; the tiny model has no object classes).
    func testSingleStreamGradientsEqualThePlainRun() throws {
        try assertSameTraining(model: "imagebert-tiny", recipe: "{name: imagebert-patches, weights: {itm: 1, mlm: 1, mrfr: 1}}")
    }

    /// The CLIP text transformer's causal stack, with dropout.
    func testCLIPTextTransformerGradientsEqualThePlainForward() throws {
        func gradients(_ checkpointing: Bool) throws -> [Tensor] {
            manualSeed(4)
            let tower = try CLIPTextTransformer(CLIPTextConfiguration(vocabularySize: 50, width: 16, layers: 2, heads: 2, contextLength: 8, dropout: 0.2))
            XCTAssertEqual(tower.checkpointActivations(checkpointing), 1)
            let ids = try Tensor.randint(0, 49, [3, 8])
            manualSeed(5)
            let loss = try tower(ids).pooled.square().sum()
            let recomputed = try FlopCounter.count { try loss.backward() }.flops
            XCTAssertEqual(recomputed > 0, checkpointing, "backward reruns the blocks only when checkpointing")
            return try tower.parameters().map { try XCTUnwrap($0.grad) }
        }
        for (a, b) in zip(try gradients(false), try gradients(true)) {
            XCTAssertEqual(try a.toArray(Float.self), try b.toArray(Float.self))
        }
    }

    /// R2D2-tiny's stacks: the ViT, the BERT text tower and the two cross encoders.
    func testEveryStackOfTheModelIsSwitched() throws {
        var run = try PretrainingRun(yaml: tinyPretrainingYAML(output: "/tmp/x"))
        run.activationCheckpointing = true
        let model = try Trainer(run).model.module
        XCTAssertEqual(model.checkpointActivations(), 4)
        let stacks = model.namedModules().compactMap { $0.module as? ActivationCheckpointing }
        XCTAssertTrue(stacks.allSatisfy(\.checkpointsActivations))
    }
}
