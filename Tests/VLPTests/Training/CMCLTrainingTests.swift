import Foundation
import Torch
import XCTest
@testable import VLP

/// UNIMO's CMCL from data to `vlp pretrain`: TF-IDF-retrieved negatives, each sample's extra
/// positive and hard negatives in the batch, and the shipped config training.
final class CMCLTrainingTests: TorchTestCase {
    func testRetrievedNegativesAreTheMostSimilarOtherCaptionsButNeverAnOwnPositive() throws {
        func sample(_ id: String, _ title: String, paraphrase: String? = nil) -> Sample {
            var texts = [SampleText(title, kind: .title, language: "en")]
            if let paraphrase { texts.append(SampleText(paraphrase, kind: .title, language: "en", role: .paraphrase)) }
            texts.append(SampleText("红色的圆形", kind: .title, language: "zh"))
            return Sample(id: id, image: nil, texts: texts)
        }
        let samples = [
            sample("a", "a red circle left of a blue square", paraphrase: "a blue square right of a red circle"),
            sample("b", "a red circle left of a green square"),
            sample("c", "two yellow triangles above a star"),
            sample("d", "a red circle left of a blue square"),   // the very caption of a: never a's negative
            sample("e", "a blue square right of a red circle"),  // a's paraphrase: never a's negative
        ]
        let attached = RetrievedNegatives.attach(to: samples, count: 2, segmenter: try JiebaSegmenter.shared())
        func retrieved(_ index: Int, _ language: String) -> [String] {
            attached[index].texts.filter { $0.role == .retrievedNegative && $0.language == language }.map(\.text)
        }
        XCTAssertEqual(retrieved(0, "en"), ["a red circle left of a green square", "two yellow triangles above a star"])
        XCTAssertEqual(retrieved(1, "en").first, "a red circle left of a blue square")
        XCTAssertEqual(retrieved(2, "en").count, 2)
        // Every Chinese caption is the same text, so none is a negative of another.
        XCTAssertEqual((0..<5).flatMap { retrieved($0, "zh") }, [])
        XCTAssertTrue(attached.allSatisfy { $0.texts.filter { $0.role == .retrievedNegative }.allSatisfy { $0.kind == .title } })
        XCTAssertEqual(TextRole(name: TextRole.retrievedNegative.name), .retrievedNegative)
        XCTAssertFalse(TextRole.retrievedNegative.isPositive)
    }

    /// Texts with the same words in another order tie exactly (their vectors are bit-identical,
    /// whatever order a dictionary iterates in), and the tie goes to the earlier sample.
    func testEqualWordBagsTieExactlyAndTiesGoToTheEarlierSample() throws {
        let vectors = RetrievedNegatives.weightedVectors([["blue", "star", "and", "red", "cross"], ["red", "star", "and", "blue", "cross"],
                                                          ["red", "circle"], ["blue", "square", "and", "red", "cross"]])
        XCTAssertEqual(vectors[0].map(\.term), vectors[1].map(\.term))
        XCTAssertEqual(vectors[0].map(\.weight), vectors[1].map(\.weight))
        func sample(_ id: String, _ title: String) -> Sample { Sample(id: id, image: nil, texts: [SampleText(title, kind: .title, language: "en")]) }
        let samples = [sample("q", "blue square and red cross"), sample("late", "red star and blue cross"), sample("early", "blue star and red cross")]
        for order in [samples, [samples[0], samples[2], samples[1]]] {
            let attached = RetrievedNegatives.attach(to: order, count: 1, segmenter: try JiebaSegmenter.shared())
            XCTAssertEqual(attached[0].texts.last?.text, order[1].texts[0].text, "the earlier of two equal scores")
        }
        XCTAssertEqual(RetrievedNegatives.best(2, of: [0.5, 0.9, 0.9, 0.1], skipping: { $0 == 1 }), [2, 0])
    }

    /// The loader's CMCL texts: K slots of the sample's own negatives (closest language first),
    /// invalid beyond what it has, and another positive than the chosen text.
    func testBatchesCarryEachSamplesExtraPositiveAndHardNegatives() throws {
        var data = TrainingDataDescription.scenes(size: 60, seed: 3)
        data.contextLength = 24
        data.rewrites = 6
        data.retrievedNegatives = 2
        let samples = try XCTUnwrap(try TrainingData.scenesSamples(data, imageSize: 32))
        let transform = try TrainingData.transform(data, imageSize: 32, masking: false)
        let tokenizer = try TrainingData.tokenizer(data)
        func encoded(_ text: String) throws -> [Int32] { try tokenizer.encode(text, maxLength: 24, paddedTo: 24).ids }
        var prepared: [SampleTransform.Prepared] = []
        for sample in samples.prefix(4) {
            let result = try transform.prepare(sample, seed: 1, epoch: 0, source: "test").get()
            let rewrites = try XCTUnwrap(result.rewrites)
            let chosen = try XCTUnwrap(result.text)
            let negatives = Set(try sample.texts.filter { !$0.role.isPositive }.map { try encoded($0.text) })
            XCTAssertTrue(sample.texts.contains { $0.role == .retrievedNegative }, "\(sample.id) has retrieved negatives")
            XCTAssertEqual(rewrites.negatives.count, 6)
            XCTAssertEqual(rewrites.negativeIsValid.filter { $0 }.count, min(6, negatives.count))
            for (tokens, valid) in zip(rewrites.negatives, rewrites.negativeIsValid) where valid {
                XCTAssertTrue(negatives.contains(tokens.ids), "\(sample.id): a negative slot holds one of its negatives")
            }
            let language = try XCTUnwrap(sample.texts.first { $0.text == chosen.text }?.language)
            let sameLanguage = sample.texts.filter { !$0.role.isPositive && $0.language == language }
            let first = try XCTUnwrap(rewrites.negatives.first)
            XCTAssertTrue(try sameLanguage.map { try encoded($0.text) }.contains(first.ids), "the first negative is in the chosen text's language")
            let positives = try sample.positiveTexts.map { try encoded($0.text) }
            XCTAssertTrue(positives.contains(rewrites.positive.ids))
            XCTAssertNotEqual(rewrites.positive.ids, chosen.tokens.ids, "another positive than the chosen one")
            prepared.append(result)
        }
        let batch = try BatchAssembly.batch(prepared, position: LoaderPosition(seed: 1))
        let rewrites = try XCTUnwrap(batch.rewrites)
        XCTAssertEqual(rewrites.positives.inputIDs.shape, [4, 24])
        XCTAssertEqual(rewrites.negatives.inputIDs.shape, [24, 24])
        XCTAssertEqual(rewrites.negativeIsValid.shape, [4, 6])
        // Evaluation never prepares them.
        XCTAssertNil(try TrainingData.transform(data, imageSize: 32, masking: false, evaluation: true)
            .prepare(samples[0], seed: 1, epoch: 0, source: "test").get().rewrites)
    }

    /// `hard_negatives.rewrites`: each image's first valid rewrite is one more FGR negative. With
    /// no valid slot FGR is what it is without the option; with valid slots it changes; without
    /// rewrites in the batch, or with Enhanced Training, it names what to set. With CMCL too, FGR
    /// reads the rewrite states CMCL encoded, and gives the same value.
    func testRewritesJoinFGRsNegatives() throws {
        let model = try PretrainingModel(TinyModels.configuration(.r2d2))
        model.module.eval()  // no dropout: the same texts encode to the same states
        let plain = PretrainingRecipe(name: "fgr", weights: [.gcpr: 1, .fgr: 1])
        var withRewrites = plain
        withRewrites.hardNegatives.rewrites = true
        var inputs = try TinyModels.inputs(count: 4, seed: 3)
        let other = try TinyModels.inputs(count: 8, seed: 4)
        func fgr(_ recipe: PretrainingRecipe, valid: [Bool]?) throws -> Double {
            if let valid {
                inputs.rewrites = try RewriteBatch(positives: inputs.text, negatives: other.text,
                                                   negativeIsValid: try Tensor(valid, shape: [4, 2]))
            }
            manualSeed(11)
            return try XCTUnwrap(try PretrainingLoss(recipe: recipe, model: model)(model, inputs).values()["fgr"])
        }
        let reference = try fgr(plain, valid: nil)
        XCTAssertEqual(try fgr(withRewrites, valid: Array(repeating: false, count: 8)), reference, accuracy: 1e-6)
        let valid = [true, false, false, true, true, true, false, false]
        XCTAssertNotEqual(try fgr(withRewrites, valid: valid), reference, accuracy: 1e-6)
        var withCMCL = withRewrites
        withCMCL.weights[.cmcl] = 1
        XCTAssertEqual(try fgr(withCMCL, valid: valid), try fgr(withRewrites, valid: valid), accuracy: 1e-6)
        inputs.rewrites = nil
        XCTAssertThrowsError(try PretrainingLoss(recipe: withRewrites, model: model)(model, inputs)) {
            XCTAssertTrue("\($0)".contains("set data.rewrites"), "\($0)")
        }
        let yaml = "model: r2d2-tiny\nsteps: 2\ndata: {}\nrecipe: {base: r2d2, hard_negatives: {rewrites: true}}\n"
        XCTAssertThrowsError(try PretrainingRun(yaml: yaml)) { XCTAssertTrue("\($0)".contains("enhanced_training: false"), "\($0)") }
    }

    /// `configs/unimo-cmcl-tiny.yaml` (CMCL + MLM), cut to a few steps, trains from the command
    /// line with finite, logged CMCL and MLM losses; without `rewrites` the step names the key.
    func testShippedCMCLConfigTrainsThroughTheCLI() throws {
        let root = try temporaryFolder("cli-cmcl")
        defer { try? FileManager.default.removeItem(at: root) }
        let run = try ShippedConfigRun("unimo-cmcl-tiny.yaml", replacing: [
            ("size: 4000", "size: 120"), ("steps: 600", "steps: 3"), ("every: 200", "every: 3"), ("batch_size: 32", "batch_size: 8"),
            ("warmup_steps: 40", "warmup_steps: 1"), ("log_every: 20", "log_every: 1"), ("size: 1000", "size: 60")], in: root)
        let steps = try run.train(logging: "cmcl")
        XCTAssertEqual(steps.count, 3, "\(steps)")
        for step in steps {
            let cmcl = try XCTUnwrap(step["cmcl"] as? Double), mlm = try XCTUnwrap(step["mlm"] as? Double)
            XCTAssertTrue(cmcl.isFinite && cmcl > 0 && mlm.isFinite && mlm > 0, "\(step)")
        }
        let errors = try run.errorsWithoutRewrites()
        XCTAssertTrue(errors.contains("cmcl needs each sample's rewritten texts: set data.rewrites"), errors)
    }
}
