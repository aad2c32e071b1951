import Foundation
import Torch
import XCTest
@testable import VLP

/// The `align-efficientnet-lite0-minilm` named configuration: EfficientNet-Lite0 (ImageNet) and
/// MiniLM towers from their real weights, new projections.
final class ALIGNConfigurationTests: TorchTestCase {
    static let name = "align-efficientnet-lite0-minilm"

    func testTheConfigurationDescribesALIGNWithRealTowers() throws {
        let configuration = try ModelConfigurationRegistry.load(Self.name)
        XCTAssertEqual(configuration.architecture, .dualEncoder)
        XCTAssertEqual(configuration.vision.kind, .efficientNet)
        XCTAssertEqual(configuration.text.vocabularySize, 30522)
        XCTAssertEqual(configuration.initialWeights?.text, "assets/minilm")
        XCTAssertEqual(configuration.initialWeights?.vision, "assets/efficientnet-lite0/efficientnet-lite0-57934424.pth")
        // Its text shape is MiniLM's own.
        let miniLM = try BertConfiguration.load(contentsOf: ModelFixtures.asset("minilm/config.json"))
        XCTAssertEqual(try XCTUnwrap(configuration.text.bert).shapeDifferences(from: miniLM), [])
    }

    /// After `loadInitialWeights` each tower computes what the pretrained network computes.
    func testInitialWeightsMakeTheTowersThePretrainedNetworks() throws {
        let model = try PretrainingModel(try ModelConfigurationRegistry.load(Self.name))
        let towers = try XCTUnwrap(model.towers)
        var messages: [String] = []
        try model.loadInitialWeights { messages.append($0) }
        XCTAssertEqual(messages.count, 2, "\(messages)")
        XCTAssertTrue(messages.contains { $0.hasPrefix("image tower:") && $0.contains("_fc.weight") }, "\(messages)")
        towers.eval()

        let tokenizer = try BertTokenizer.englishUncased(vocabularyFile: ModelFixtures.asset("minilm/vocab.txt").path)
        let batch = try TextBatch(["a photo of a sneaker", "an ankle boot"].map { try tokenizer.encode($0) }, paddingID: tokenizer.paddingID)
        let (miniLM, _) = try BertModel.pretrained(directory: ModelFixtures.asset("minilm"))
        try withNoGrad {
            let expected = try miniLM(batch.inputIDs, attentionMask: batch.attentionMask).hiddenStates
            let actual = try XCTUnwrap(towers.textEncoder as? BertModel)(batch.inputIDs, attentionMask: batch.attentionMask).hiddenStates
            XCTAssertEqual(try maxAbsDifference(actual, expected), 0)

            let lite0 = try EfficientNet.pretrained(checkpoint: ModelFixtures.asset("efficientnet-lite0/efficientnet-lite0-57934424.pth"))
            manualSeed(1)
            let images = try Tensor.randn([2, 3, 96, 96])
            XCTAssertEqual(try maxAbsDifference(towers.imageEncoder.encode(images).pooled, lite0.pooledFeatures(images)), 0)
        }
    }

    /// A tiny batch through the named model: forward, GCPR, backward.
    func testForwardLossAndBackwardRun() throws {
        manualSeed(2)
        let model = try PretrainingModel(try ModelConfigurationRegistry.load(Self.name))
        try model.loadInitialWeights { _ in }
        let towers = try XCTUnwrap(model.towers)
        towers.train()
        let tokenizer = try BertTokenizer.englishUncased(vocabularyFile: ModelFixtures.asset("minilm/vocab.txt").path)
        let batch = try TextBatch(["a photo of a t-shirt", "a photo of a bag"].map { try tokenizer.encode($0) }, paddingID: tokenizer.paddingID)
        let output = try towers(images: Tensor.randn([2, 3, 96, 96]), inputIDs: batch.inputIDs, attentionMask: batch.attentionMask)
        XCTAssertEqual(output.images.features.shape, [2, 256])
        XCTAssertEqual(output.texts.features.shape, [2, 256])
        let loss = try GlobalContrastiveLoss()(imageFeatures: output.images.features, textFeatures: output.texts.features,
                                               imageIDs: Tensor([Int64(0), 1], shape: [2]), logitScale: output.logitScale).loss
        XCTAssertTrue(try loss.item().isFinite)
        try loss.backward()
        XCTAssertGreaterThan(try XCTUnwrap(towers.imageProjection.weight.grad).abs().sum().item(), 0)
        XCTAssertGreaterThan(try XCTUnwrap(towers.textProjection.weight.grad).abs().sum().item(), 0)
    }

    /// A text tower whose shape is not the directory's fails naming the field.
    func testAMismatchedTextTowerIsNamed() throws {
        var configuration = try ModelConfigurationRegistry.load(Self.name)
        var text = try XCTUnwrap(configuration.text.bert)
        text.layers = 4
        configuration.text = .bert(text)
        let model = try PretrainingModel(configuration)
        XCTAssertThrowsError(try model.loadInitialWeights { _ in }) { error in
            XCTAssertTrue("\(error)".contains("num_hidden_layers 4 vs 6"), "\(error)")
        }
    }
}
