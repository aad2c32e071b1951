import Foundation
import Torch
import XCTest
@testable import VLP

/// The momentum teacher's queue gets every forward's features, and a recipe never trains less
/// than it weights.
final class MomentumTeacherTests: TorchTestCase {
    /// With `gradient_accumulation: 4` one optimizer step puts all four micro-batches' teacher
    /// features in the queue (a pending slot once kept only the last). GradCache computes TgD
    /// over the whole step's batch, so they enter together, as one batch of 32 would: all of
    /// weight 1.
    func testAccumulatedStepQueuesEveryMicroBatch() throws {
        let root = try temporaryFolder("teacher-queue")
        defer { try? FileManager.default.removeItem(at: root) }
        let yaml = tinyPretrainingYAML(output: root.path, steps: 3, recipe: "prd2", model: "r2d2-tiny", checkpointEvery: 1,
                                       extra: "gradient_accumulation: 4\ndistillation: {queue: 256}")
        let trainer = try Trainer(try PretrainingRun(yaml: yaml))
        trainer.log = { _ in }
        trainer.stopAfterStep = 2
        _ = try trainer.run(resume: false)
        let checkpoints = TrainingCheckpoint.list(in: root.appendingPathComponent("checkpoints"))
        XCTAssertEqual(checkpoints.map(\.step), [1, 2])
        let after = try SafeTensors.read(checkpoints[1].url.appendingPathComponent(TrainingCheckpoint.objectivesFile)).tensors
        let later = try XCTUnwrap(after["queue.weights"]).floats()
        XCTAssertEqual(later.count, 64, "2 steps × 4 micro-batches of 8")
        // Newest first: step 2's 32 of weight 1, then step 1's 32 decayed once.
        for w in later[0..<32] { XCTAssertEqual(Double(w), 1, accuracy: 1e-6) }
        for w in later[32..<64] { XCTAssertEqual(Double(w), 0.99, accuracy: 1e-6) }
        let state = try SafeTensors.read(checkpoints[0].url.appendingPathComponent(TrainingCheckpoint.objectivesFile)).tensors
        XCTAssertEqual(try XCTUnwrap(state["queue.weights"]).shape, [32], "4 micro-batches of 8")
        XCTAssertEqual(try XCTUnwrap(state["queue.image_features"]).shape.first, 32)
        XCTAssertEqual(try XCTUnwrap(state["queue.text_features"]).shape.first, 32)
        let ids = try XCTUnwrap(state["queue.image_ids"]).to(.float32).floats().map { Int($0) }
        XCTAssertGreaterThan(Set(ids).count, 8, "the four micro-batches hold different images: \(ids)")
    }

    /// An objective the recipe weights that produced no term stops the step with its name; MOC
    /// on pixel patches (no detector classes) says what data it needs.
    func testAWeightedObjectiveWithoutATermIsAnError() throws {
        var configuration = TinyModels.configuration(.singleStream)
        configuration.singleStream = SingleStreamConfiguration(objectClasses: 5)
        let model = try PretrainingModel(configuration)
        let loss = try PretrainingLoss(recipe: .imageBERT, model: model)
        XCTAssertThrowsError(try loss.weighted([.itm: try Tensor(scalar: 1.0), .mlm: try Tensor(scalar: 1.0)], model: "single-stream")) { error in
            XCTAssertTrue("\(error)".contains("weights moc, mrfr, which the single-stream model computed no loss for"), "\(error)")
        }
        XCTAssertThrowsError(try loss(model, TinyModels.inputs(count: 4, seed: 2))) { error in
            XCTAssertTrue("\(error)".contains("moc needs the detector's object classes"), "\(error)")
        }
        let noMOC = PretrainingRecipe(name: "imagebert-patches", weights: [.itm: 1, .mlm: 1, .mrfr: 1])
        let terms = try PretrainingLoss(recipe: noMOC, model: model)(model, TinyModels.inputs(count: 4, seed: 2))
        XCTAssertEqual(Set(terms.terms.keys), [.itm, .mlm, .mrfr])
        XCTAssertEqual(Set(try terms.values().keys), ["itm", "mlm", "mrfr", "loss"])
    }
}
