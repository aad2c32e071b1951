import Foundation
import Torch
import XCTest
@testable import VLP

/// The `r2d2-retrieved-negatives` preset (FGR's extra rewritten / retrieved negative per image),
/// the recipe `vlp demo` trains: its definition, its config through `vlp pretrain`, and the demo's
/// run description.
final class RetrievedNegativesTrainingTests: TorchTestCase {
    func testPresetIsR2D2WithRewrittenNegativesAndNoEnhancedTraining() throws {
        let recipe = try PretrainingRecipe.named("r2d2-retrieved-negatives")
        XCTAssertEqual(recipe, .r2d2RetrievedNegatives)
        XCTAssertEqual(recipe.weights, PretrainingRecipe.r2d2.weights)
        XCTAssertFalse(recipe.enhancedTraining)
        XCTAssertTrue(recipe.hardNegatives.rewrites)
        // Written as its name, read back as the same recipe.
        let run = try PretrainingRun(yaml: "model: r2d2-tiny\nsteps: 2\ndata: {rewrites: 1}\nrecipe: r2d2-retrieved-negatives\n")
        XCTAssertEqual(run.stages[0].recipe, recipe)
        let written = try run.yaml()
        XCTAssertTrue(written.contains("recipe: r2d2-retrieved-negatives"), written)
        XCTAssertEqual(try PretrainingRun(yaml: written).stages[0].recipe, recipe)
    }

    /// The demo trains R2D2 with this recipe on data carrying each image's rewrites and retrieved
    /// captions, PRD2 on the same corpus without them, and chooses λ on 1,000 validation images.
    func testDemoTrainsThePresetAndEvaluatesRetrievalOnAThousandImages() throws {
        let options = DemoRun.Options(output: URL(fileURLWithPath: "/nonexistent"), quick: false)
        let r2d2 = options.run(model: "r2d2-tiny", recipe: .r2d2RetrievedNegatives, output: URL(fileURLWithPath: "/nonexistent/r2d2"))
        XCTAssertEqual(r2d2.stages[0].data.rewrites, 1)
        XCTAssertEqual(r2d2.stages[0].data.retrievedNegatives, 2)
        XCTAssertEqual(r2d2.stages[0].steps, 1500)
        let prd2 = options.run(model: "r2d2-tiny-dual", recipe: .prd2, output: URL(fileURLWithPath: "/nonexistent/prd2"))
        XCTAssertEqual(prd2.stages[0].data.rewrites, 0)
        XCTAssertEqual(prd2.stages[0].data.source, r2d2.stages[0].data.source)
        XCTAssertTrue(DemoRun.models.contains { $0.key == "r2d2" && $0.recipe == .r2d2RetrievedNegatives })
        guard case .scenes(let size, _, _, let set, let split) = options.evaluationData(.icr, split: .valid).source else {
            return XCTFail("the demo's retrieval validation data is not Scenes")
        }
        XCTAssertEqual(size, 10_000)
        XCTAssertEqual(set, .icr)
        XCTAssertEqual(split, .valid)
    }

    /// `configs/r2d2-retrieved-negatives-tiny.yaml`, cut to a few steps, trains from the command
    /// line with finite FGR and MLM losses; without `rewrites` the step names the key.
    func testShippedConfigTrainsThroughTheCLI() throws {
        let root = try temporaryFolder("cli-retrieved-negatives")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ShippedConfigRun("r2d2-retrieved-negatives-tiny.yaml", replacing: [
            ("size: 5000", "size: 120"), ("size: 10000", "size: 60"), ("steps: 1500", "steps: 3"), ("every: 500", "every: 3"),
            ("batch_size: 32", "batch_size: 8"), ("warmup_steps: 100", "warmup_steps: 1"), ("log_every: 20", "log_every: 1")], in: root)
        let steps = try run.train(logging: "fgr")
        XCTAssertEqual(steps.count, 3, "\(steps)")
        for step in steps {
            let fgr = try XCTUnwrap(step["fgr"] as? Double), mlm = try XCTUnwrap(step["mlm"] as? Double)
            XCTAssertTrue(fgr.isFinite && fgr > 0 && mlm.isFinite && mlm > 0, "\(step)")
        }
        let errors = try run.errorsWithoutRewrites()
        XCTAssertTrue(errors.contains("hard_negatives.rewrites needs each image's rewritten texts: set data.rewrites"), errors)
    }
}
