import Foundation
import Torch
import XCTest
@testable import VLP

/// Tiny configurations of the three architectures, and inputs for them.
enum TinyModels {
    static func configuration(_ architecture: VLPModelConfiguration.Architecture, dropout: Double = 0) -> VLPModelConfiguration {
        let text = BertConfiguration(vocabularySize: 64, hiddenSize: 32, layers: 1, heads: 4, intermediateSize: 64,
                                     maxPositions: 16, hiddenDropout: dropout, attentionDropout: dropout)
        let vision = VisionTransformerConfiguration(imageSize: 16, patchSize: 8, width: 32, layers: 1, heads: 4, mlpWidth: 64,
                                                    dropout: dropout)
        let cross = CrossEncoderConfiguration(width: 32, layers: 1, heads: 4, mlpWidth: 64, queryInputWidth: 32,
                                              contextInputWidth: 32, dropout: dropout)
        return VLPModelConfiguration(architecture: architecture, embedDim: 16, text: .bert(text), vision: vision,
                                     textCross: architecture == .r2d2 ? cross : nil, imageCross: architecture == .r2d2 ? cross : nil)
    }

    static let maskID = 3

    /// `count` distinct random images and texts (length 6, `[CLS]`=1 first), with 15% of the
    /// non-special tokens masked for MLM (at least one per text).
    static func inputs(count: Int, seed: UInt64) throws -> PretrainingInputs {
        manualSeed(seed)
        let images = try Tensor.randn([count, 3, 16, 16])
        var ids: [Int64] = [], masked: [Int64] = [], labels: [Int64] = []
        var rng = SplitMix64(seed: seed, stream: "tiny-texts", index: 0)
        for _ in 0..<count {
            let row = [Int64(1)] + (0..<5).map { _ in Int64(4 + rng.next() % 60) }
            let chosen = 1 + Int(rng.next() % 5)
            for (i, id) in row.enumerated() {
                ids.append(id)
                masked.append(i == chosen ? Int64(maskID) : id)
                labels.append(i == chosen ? id : -100)
            }
        }
        let shape = [count, 6]
        return try PretrainingInputs(images: images, imageIDs: try Tensor((0..<count).map(Int64.init), shape: [count]),
                                 inputIDs: try Tensor(ids, shape: shape), attentionMask: try Tensor.ones(shape, dtype: .int64),
                                 maskedInputIDs: try Tensor(masked, shape: shape), mlmLabels: try Tensor(labels, shape: shape))
    }

    /// Scores [images, texts] of every image against every text: feature similarity for the
    /// two-tower models, the ITM match probability for the single-stream model.
    static func pairScores(_ model: PretrainingModel, _ inputs: PretrainingInputs, crossEncoders: Bool = false) throws -> Tensor {
        try withNoGrad {
            let n = inputs.count
            if crossEncoders, let towers = model.towers, let scorer = model.pairScorer {
                let images = try towers.encodeImages(inputs.images), texts = try towers.encodeTexts(inputs.inputIDs, attentionMask: inputs.attentionMask)
                let imageIndex = try Tensor((0..<n * n).map { Int64($0 / n) }, shape: [n * n])
                let textIndex = try Tensor((0..<n * n).map { Int64($0 % n) }, shape: [n * n])
                let scores = try scorer.scorePairs(textStates: texts.states.indexSelect(dim: 0, textIndex),
                                                   textMask: inputs.attentionMask.indexSelect(dim: 0, textIndex),
                                                   imageStates: images.states.indexSelect(dim: 0, imageIndex))
                return try scores.matchProbability().reshaped([n, n])
            }
            if let m = model.jointEncoder {
                let regions = try m.regions(of: inputs.images)
                let imageIndex = try Tensor((0..<n * n).map { Int64($0 / n) }, shape: [n * n])
                let textIndex = try Tensor((0..<n * n).map { Int64($0 % n) }, shape: [n * n])
                let paired = try ImageRegions(features: regions.features.indexSelect(dim: 0, imageIndex),
                                              boxes: regions.boxes.indexSelect(dim: 0, imageIndex))
                let output = try m(inputIDs: inputs.inputIDs.indexSelect(dim: 0, textIndex),
                                   attentionMask: inputs.attentionMask.indexSelect(dim: 0, textIndex), regions: paired)
                return try output.matchLogits.softmax(dim: -1).select(dim: 1, index: 1).reshaped([n, n])
            }
            let towers = try XCTUnwrap(model.towers)
            let images = try towers.encodeImages(inputs.images), texts = try towers.encodeTexts(inputs.inputIDs, attentionMask: inputs.attentionMask)
            return try images.features.matmul(texts.features.transposed(0, 1))
        }
    }

    /// Recall@1 in percent in both directions for pairs on the diagonal.
    static func recallAtOne(_ scores: Tensor) throws -> (imageToText: Double, textToImage: Double) {
        let n = Double(scores.size(0))
        let diagonal = try Tensor.arange(scores.size(0))
        let i2t = try (scores.argmax(dim: 1) .== diagonal).to(.float32).sum().item() / n * 100
        let t2i = try (scores.argmax(dim: 0) .== diagonal).to(.float32).sum().item() / n * 100
        return (i2t, t2i)
    }

    /// Trains on one batch for `steps` AdamW steps; returns the first and last total loss.
    @discardableResult
    static func overfit(_ model: PretrainingModel, recipe: PretrainingRecipe, inputs: PretrainingInputs, steps: Int,
                        learningRate: Double = 2e-3) throws -> (first: Double, last: Double) {
        let loss = try PretrainingLoss(recipe: recipe, model: model, queueCapacity: 16)
        let optimizer = AdamW(model.module.parameters().filter(\.requiresGrad), learningRate: learningRate, weightDecay: 0)
        model.module.train()
        var first = 0.0, last = 0.0
        for step in 0..<steps {
            optimizer.zeroGrad()
            let terms = try loss(model, inputs)
            try terms.total.backward()
            try optimizer.step()
            try loss.afterOptimizerStep(model)
            last = try terms.total.item()
            if ProcessInfo.processInfo.environment["VLP_DEBUG_OVERFIT"] != nil, step % 10 == 0 { print(step, try terms.values()) }
            if step == 0 { first = last }
        }
        model.module.eval()
        return (first, last)
    }
}

final class ArchitectureTests: TorchTestCase {
    func testDualEncoderShapesAndNormalisedFeatures() throws {
        let model = try DualEncoder(TinyModels.configuration(.dualEncoder))
        let inputs = try TinyModels.inputs(count: 3, seed: 1)
        let output = try model(images: inputs.images, inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask)
        XCTAssertEqual(output.images.features.shape, [3, 16])
        XCTAssertEqual(output.texts.features.shape, [3, 16])
        XCTAssertEqual(output.images.states.shape, [3, 5, 32])
        XCTAssertEqual(output.texts.states.shape, [3, 6, 32])
        XCTAssertLessThan(try (output.images.features.norm(2, dims: [1]) - 1).abs().max().item(), 1e-5)
        XCTAssertEqual(try output.logitScale.item(), 1 / 0.07, accuracy: 1e-3)
        let keys = Set(model.stateDict().map(\.name))
        for key in ["text.embeddings.word_embeddings.weight", "vision.embeddings.patch_embedding.weight", "text_projection.weight",
                    "visual_projection.weight", "temperature.logit_scale"] {
            XCTAssertTrue(keys.contains(key), key)
        }
    }

    /// Hidden patches change the image features; the mask must have one entry per patch.
    func testPatchMaskHidesPatches() throws {
        let model = try DualEncoder(TinyModels.configuration(.dualEncoder))
        model.eval()
        let inputs = try TinyModels.inputs(count: 2, seed: 2)
        let none = try Tensor.zeros([2, 4], dtype: .bool)
        let plain = try model.encodeImages(inputs.images).features
        XCTAssertLessThan(try maxAbsDifference(plain, model.encodeImages(inputs.images, patchMask: none).features), 1e-6)
        let some = try Tensor([true, false, false, true, false, false, false, false], shape: [2, 4])
        let masked = try model.encodeImages(inputs.images, patchMask: some).features
        XCTAssertGreaterThan(try maxAbsDifference(plain[0], masked[0]), 1e-4)
        XCTAssertLessThan(try maxAbsDifference(plain[1], masked[1]), 1e-6)
        // A hidden patch's pixels no longer matter.
        var pixels = try inputs.images.floats()
        pixels[1 * 16 + 2] += 5  // image 0, channel 0, row 1, column 2: inside patch 0
        let changed = try Tensor(pixels, shape: [2, 3, 16, 16])
        XCTAssertLessThan(try maxAbsDifference(masked, model.encodeImages(changed, patchMask: some).features), 1e-5)
        XCTAssertThrowsError(try model.encodeImages(inputs.images, patchMask: Tensor.zeros([2, 5], dtype: .bool)))
    }

    func testR2D2PairScoresAndMLMLogits() throws {
        let model = try R2D2(TinyModels.configuration(.r2d2))
        let inputs = try TinyModels.inputs(count: 3, seed: 3)
        let images = try model.towers.encodeImages(inputs.images)
        let texts = try model.towers.encodeTexts(inputs.inputIDs, attentionMask: inputs.attentionMask)
        let scores = try model.scorePairs(textStates: texts.states, textMask: inputs.attentionMask, imageStates: images.states,
                                          returnCrossAttention: true)
        XCTAssertEqual(scores.textCrossLogits.shape, [3, 2])
        XCTAssertEqual(scores.imageCrossLogits.shape, [3, 2])
        XCTAssertEqual(scores.textCrossAttention.first?.shape, [3, 4, 6, 5])
        XCTAssertEqual(try model.maskedLanguageLogits(scores).shape, [3, 6, 64])
        let p = try scores.matchProbability()
        XCTAssertEqual(p.shape, [3])
        XCTAssertTrue(try ((p .>= 0).logicalAnd(p .<= 1)).all())
        XCTAssertThrowsError(try R2D2(TinyModels.configuration(.dualEncoder)))
    }

    func testSingleStreamShapesPatchRegionsAndRegionFiles() throws {
        let model = try SingleStream(TinyModels.configuration(.singleStream))
        let inputs = try TinyModels.inputs(count: 2, seed: 4)
        let regions = try model.regions(of: inputs.images)
        XCTAssertEqual(regions.features.shape, [2, 4, 192])
        // Region 1 is the top-right patch: x from 0.5 to 1, y from 0 to 0.5, area ¼.
        XCTAssertEqual(try regions.boxes[0][1].floats(), [0.5, 0, 1, 0.5, 0.25])
        XCTAssertEqual(try regions.features[1][2].narrowed(dim: 0, start: 0, length: 8).floats(),
                       try inputs.images[1][0][8].narrowed(dim: 0, start: 0, length: 8).floats())
        let output = try model(inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask, regions: regions)
        XCTAssertEqual(output.states.shape, [2, 10, 32])
        XCTAssertEqual(output.matchLogits.shape, [2, 2])
        XCTAssertEqual(output.regionStates.shape, [2, 4, 32])

        // Detector regions from .npy files, corners in pixels.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("regions-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        try NumpyArrayFile.write([Float](repeating: 0.5, count: 3 * 192), shape: [3, 192], to: folder.appendingPathComponent("f.npy"))
        try NumpyArrayFile.write([0, 0, 32, 16, 16, 16, 64, 64, 0, 32, 64, 64], shape: [3, 4], to: folder.appendingPathComponent("b.npy"))
        let loaded = try ImageRegions.load(features: folder.appendingPathComponent("f.npy"), boxes: folder.appendingPathComponent("b.npy"),
                                           imageSize: (64, 64))
        XCTAssertEqual(try loaded.boxes[0][0].floats(), [0, 0, 0.5, 0.25, 0.125])
        XCTAssertEqual(try model(inputIDs: inputs.inputIDs[0].unsqueezed(dim: 0), attentionMask: inputs.attentionMask[0].unsqueezed(dim: 0),
                                 regions: loaded).states.shape, [1, 9, 32])
        XCTAssertThrowsError(try ImageRegions.load(features: folder.appendingPathComponent("f.npy"), boxes: folder.appendingPathComponent("b.npy")))
    }

    func testRecipesTheArchitectureCannotTrainAreRejected() throws {
        let dual = try PretrainingModel(TinyModels.configuration(.dualEncoder))
        XCTAssertThrowsError(try PretrainingLoss(recipe: .r2d2, model: dual)) { error in
            XCTAssertTrue("\(error)".contains("fgr"), "\(error)")
        }
        XCTAssertNoThrow(try PretrainingLoss(recipe: .prd2, model: dual))
        let single = try PretrainingModel(TinyModels.configuration(.singleStream))
        XCTAssertThrowsError(try PretrainingLoss(recipe: .imageBERT, model: single)) { error in
            XCTAssertTrue("\(error)".contains("moc"), "\(error)")
        }
    }

    /// Every architecture, trained with its recipe on 8 pairs, retrieves each pair first.
    func testEveryArchitectureOverfitsEightPairs() throws {
        let inputs = try TinyModels.inputs(count: 8, seed: 5)
        let noMOC = PretrainingRecipe(name: "imagebert-patches", weights: [.itm: 1, .mlm: 1, .mrfr: 1])
        for (architecture, recipe, steps) in [(VLPModelConfiguration.Architecture.dualEncoder, PretrainingRecipe.prd2, 60),
                                              (.r2d2, .r2d2, 110), (.singleStream, noMOC, 100)] {
            manualSeed(6)
            let model = try PretrainingModel(TinyModels.configuration(architecture))
            let before = try TinyModels.recallAtOne(TinyModels.pairScores(model, inputs))
            let (first, last) = try TinyModels.overfit(model, recipe: recipe, inputs: inputs, steps: steps)
            XCTAssertLessThan(last, first * 0.7, "\(architecture): loss \(first) → \(last)")
            let after = try TinyModels.recallAtOne(TinyModels.pairScores(model, inputs))
            XCTAssertEqual(after.imageToText, 100, "\(architecture) i2t (before: \(before))")
            XCTAssertEqual(after.textToImage, 100, "\(architecture) t2i")
            if model.pairScorer != nil {
                let reranked = try TinyModels.recallAtOne(TinyModels.pairScores(model, inputs, crossEncoders: true))
                XCTAssertEqual(reranked.imageToText, 100, "R2D2 cross encoders i2t")
                XCTAssertEqual(reranked.textToImage, 100, "R2D2 cross encoders t2i")
            }
        }
    }

    /// Each architecture's weights survive a safetensors round trip: same outputs after loading.
    func testCheckpointRoundTrip() throws {
        let inputs = try TinyModels.inputs(count: 4, seed: 7)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("arch-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        for architecture in VLPModelConfiguration.Architecture.allCases {
            manualSeed(8)
            let model = try PretrainingModel(TinyModels.configuration(architecture))
            model.module.eval()
            let url = folder.appendingPathComponent("\(architecture.rawValue).safetensors")
            try SafeTensors.write(Dictionary(uniqueKeysWithValues: model.module.stateDict().map { ($0.name, $0.tensor) }), to: url)
            manualSeed(9)
            let fresh = try PretrainingModel(TinyModels.configuration(architecture))
            fresh.module.eval()
            let expected = try TinyModels.pairScores(model, inputs, crossEncoders: true)
            XCTAssertGreaterThan(try maxAbsDifference(expected, TinyModels.pairScores(fresh, inputs, crossEncoders: true)), 1e-6)
            let report = try fresh.module.loadStateDict(SafeTensors.read(url).tensors, source: url.lastPathComponent)
            XCTAssertTrue(report.missing.isEmpty && report.unexpected.isEmpty)
            XCTAssertEqual(try maxAbsDifference(expected, TinyModels.pairScores(fresh, inputs, crossEncoders: true)), 0, "\(architecture)")
        }
    }

    /// Enhanced Training computes MLM inside the FGR forward: fewer FLOPs than a separate MLM forward.
    func testEnhancedTrainingSavesTheMLMForward() throws {
        let inputs = try TinyModels.inputs(count: 4, seed: 10)
        var flops: [Bool: Double] = [:]
        for et in [true, false] {
            manualSeed(11)
            let model = try PretrainingModel(TinyModels.configuration(.r2d2))
            let recipe = et ? PretrainingRecipe.r2d2 : .r2d2WithoutEnhancedTraining
            let loss = try PretrainingLoss(recipe: recipe, model: model)
            let (terms, counted) = try FlopCounter.count { try loss(model, inputs) }
            XCTAssertNotNil(terms.terms[.mlm])
            XCTAssertNotNil(terms.terms[.fgr])
            flops[et] = counted
        }
        XCTAssertLessThan(flops[true]!, flops[false]!)
        XCTAssertGreaterThan(flops[true]!, 0)
    }
}
