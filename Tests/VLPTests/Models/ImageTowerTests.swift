import Foundation
import Torch
import XCTest
@testable import VLP

/// `VisionTransformer` and `EfficientNet` as a dual encoder's image tower.
final class ImageTowerTests: TorchTestCase {
    /// A dual encoder with TinyModels' text tower and an EfficientNet-Lite0 image tower (random weights).
    static func efficientNetDual(imageSize: Int = 64) -> VLPModelConfiguration {
        var configuration = TinyModels.configuration(.dualEncoder)
        configuration.vision = .efficientNet(EfficientNetTowerConfiguration(imageSize: imageSize))
        return configuration
    }

    func testEfficientNetDualEncoderFeaturesAndStates() throws {
        manualSeed(1)
        let model = try DualEncoder(Self.efficientNetDual())
        model.eval()
        XCTAssertTrue(model.imageEncoder is EfficientNet)
        XCTAssertEqual(model.imageEncoder.width, 1280)
        XCTAssertEqual(model.imageEncoder.imageSize, 64)
        let inputs = try TinyModels.inputs(count: 3, seed: 2)
        let images = try Tensor.randn([3, 3, 64, 64])
        let output = try model(images: images, inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask)
        XCTAssertEqual(output.images.features.shape, [3, 16])
        // 64 px → a 2×2 head feature map: the pooled vector, then 4 positions.
        XCTAssertEqual(output.images.states.shape, [3, 5, 1280])
        XCTAssertLessThan(try (output.images.features.norm(2, dims: [1]) - 1).abs().max().item(), 1e-5)
        let tower = try model.imageEncoder.encode(images)
        XCTAssertEqual(try maxAbsDifference(tower.states.select(dim: 1, index: 0), tower.pooled), 0)
        XCTAssertEqual(try maxAbsDifference(tower.states.narrowed(dim: 1, start: 1, length: 4).mean(dims: [1]), tower.pooled), 0, accuracy: 1e-5)
        let keys = Set(model.stateDict().map(\.name))
        for key in ["vision._conv_stem.weight", "vision._blocks.15._project_conv.weight", "vision._bn1.running_mean", "visual_projection.weight"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertFalse(keys.contains { $0.hasPrefix("vision._fc") }, "the tower has no classifier")
        XCTAssertEqual(model.imageProjection.weight.shape, [16, 1280])
    }

    /// GCPR's gradient reaches both projections and both towers.
    func testGradientsFlowToTheProjections() throws {
        manualSeed(3)
        let model = try DualEncoder(Self.efficientNetDual())
        model.train()
        let inputs = try TinyModels.inputs(count: 4, seed: 4)
        let output = try model(images: Tensor.randn([4, 3, 64, 64]), inputIDs: inputs.inputIDs, attentionMask: inputs.attentionMask)
        let loss = try GlobalContrastiveLoss()(imageFeatures: output.images.features, textFeatures: output.texts.features,
                                               imageIDs: inputs.imageIDs, logitScale: output.logitScale).loss
        try loss.backward()
        for (name, parameter) in [("visual_projection", model.imageProjection.weight), ("text_projection", model.textProjection.weight),
                                  ("temperature", model.temperature.logScale)] {
            let grad = try XCTUnwrap(parameter.grad, name)
            XCTAssertGreaterThan(try grad.abs().sum().item(), 0, name)
        }
        let stem = try XCTUnwrap(model.namedParameters().first { $0.name == "vision._conv_stem.weight" }?.tensor.grad)
        XCTAssertGreaterThan(try stem.abs().sum().item(), 0)
    }

    func testPatchGrids() throws {
        let vit = try VisionTransformer(VisionTransformerConfiguration(imageSize: 16, patchSize: 8, width: 32, layers: 1, heads: 4))
        XCTAssertTrue(vit.patchGrid(height: 16, width: 16) == (2, 2))
        XCTAssertTrue(vit.patchGrid(height: 32, width: 24) == (4, 3))
        let efficientNet = try EfficientNet(EfficientNetTowerConfiguration(imageSize: 96).network)
        XCTAssertTrue(efficientNet.patchGrid(height: 96, width: 96) == (3, 3))
        XCTAssertTrue(efficientNet.patchGrid(height: 100, width: 64) == (4, 2), "\(efficientNet.patchGrid(height: 100, width: 64))")
        XCTAssertEqual(try efficientNet.featureMap(Tensor.randn([1, 3, 100, 64])).shape, [1, 1280, 4, 2])
    }

    /// The ViT's tower output is its own forward's: pooled = post-norm class token, states = last hidden states.
    func testViTConformanceIsItsForward() throws {
        manualSeed(5)
        let vit = try VisionTransformer(VisionTransformerConfiguration(imageSize: 16, patchSize: 8, width: 32, layers: 1, heads: 4))
        let images = try Tensor.randn([2, 3, 16, 16])
        let mask = try Tensor([true, false, false, true, false, false, false, false], shape: [2, 4])
        let direct = try vit(images, patchMask: mask), tower = try vit.encode(images, patchMask: mask)
        XCTAssertEqual(try maxAbsDifference(direct.pooled, tower.pooled), 0)
        XCTAssertEqual(try maxAbsDifference(direct.hiddenStates, tower.states), 0)
    }

    /// An EfficientNet patch mask blanks the pixels of each masked feature-map cell: nothing
    /// masked is the plain forward, everything masked is the forward of a zero image, and one cell
    /// masked equals zeroing that cell's pixels by hand.
    func testEfficientNetPatchMaskHidesPixels() throws {
        manualSeed(6)
        let tower = try EfficientNet(EfficientNetTowerConfiguration(imageSize: 64).network)
        tower.eval()
        let images = try Tensor.randn([2, 3, 64, 64])
        let plain = try tower.encode(images).pooled
        let none = try tower.encode(images, patchMask: Tensor.zeros([2, 4], dtype: .bool)).pooled
        XCTAssertEqual(try maxAbsDifference(plain, none), 0)
        let all = try tower.encode(images, patchMask: Tensor.ones([2, 4], dtype: .bool)).pooled
        XCTAssertEqual(try maxAbsDifference(all, tower.encode(Tensor.zeros([2, 3, 64, 64])).pooled), 0)
        // Cell 1 (top right) of image 0: pixels rows 0..<32, columns 32..<64.
        let mask = try Tensor([false, true, false, false, false, false, false, false], shape: [2, 4])
        var keep = [Float](repeating: 1, count: 2 * 64 * 64)
        for y in 0..<32 { for x in 32..<64 { keep[y * 64 + x] = 0 } }
        let byHand = try images * Tensor(keep, shape: [2, 1, 64, 64])
        XCTAssertLessThan(try maxAbsDifference(tower.encode(images, patchMask: mask).pooled, tower.encode(byHand).pooled), 1e-6)
        XCTAssertThrowsError(try tower.encode(images, patchMask: Tensor.zeros([2, 9], dtype: .bool))) { error in
            XCTAssertTrue("\(error)".contains("2×2"), "\(error)")
        }
    }

    /// The dual-encoder recipe with feature-guided distillation (masked patches) trains an
    /// EfficientNet dual encoder.
    func testFeatureDistillationRunsWithAnEfficientNetTower() throws {
        manualSeed(7)
        let model = try PretrainingModel(Self.efficientNetDual(imageSize: 32))
        XCTAssertTrue(model.supportedObjectives.contains(.fgd))
        let loss = try PretrainingLoss(recipe: .prd2, model: model, queueCapacity: 8)
        var inputs = try TinyModels.inputs(count: 4, seed: 8)
        inputs = PretrainingInputs(images: try Tensor.randn([4, 3, 32, 32]), imageIDs: inputs.imageIDs, text: inputs.text)
        model.module.train()
        let terms = try loss(model, inputs)
        XCTAssertNotNil(terms.terms[.fgd])
        XCTAssertNotNil(terms.terms[.gcpr])
        try terms.total.backward()
        try loss.afterOptimizerStep(model)
        XCTAssertTrue(try terms.total.item().isFinite)
    }
}
