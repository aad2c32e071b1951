import Foundation
import Torch
import XCTest
@testable import VLP

final class EfficientNetTests: TorchTestCase {
    nonisolated(unsafe) static var lite0: EfficientNet?

    func lite0() throws -> EfficientNet {
        if let model = Self.lite0 { return model }
        let model = try EfficientNet.pretrained(checkpoint: ModelFixtures.asset("efficientnet-lite0/efficientnet-lite0-57934424.pth"))
        Self.lite0 = model
        return model
    }

    /// The fixture's Pillow-preprocessed photos through our normalisation and model against the
    /// reference forward (scripts/reference/make_model_fixtures.py) on the real ImageNet weights.
    func testLite0LogitsMatchReferenceOnPhotos() throws {
        let (tensors, metadata) = try ModelFixtures.load("efficientnet.safetensors")
        let images = try ModelFixtures.tensor(tensors, "image")  // uint8 [2, 224, 224, 3]
        let pixels = try images.toArray(UInt8.self)
        let plane = 224 * 224 * 3
        var values: [Float] = []
        for i in 0..<images.size(0) {
            let image = RGBImage(width: 224, height: 224, pixels: Array(pixels[(i * plane)..<((i + 1) * plane)]))
            values += Normalization.imagenet.tensorData(from: image).values
        }
        let input = try Tensor(values, shape: [images.size(0), 3, 224, 224])
        let model = try lite0()
        try withNoGrad {
            let logits = try model(input)
            let expected = try ModelFixtures.tensor(tensors, "logits")
            let difference = try maxAbsDifference(logits, expected)
            reportModelParity("EfficientNet-Lite0 logits (chelsea, coffee)", difference)
            XCTAssertLessThanOrEqual(difference, 1e-3)
            let top5 = try logits.topk(5, dim: 1).indices
            XCTAssertEqual(try top5.toArray(Int64.self), try ModelFixtures.tensor(tensors, "top5").toArray(Int64.self),
                           "top-5 classes differ; reference: \(metadata["top5_names"] ?? "?")")
            // The reference itself is sensible: a cat class for the cat, espresso for the coffee.
            let top1 = try logits.argmax(dim: 1).toArray(Int64.self)
            XCTAssertTrue((281...285).contains(top1[0]), "chelsea.png should be a domestic cat class (281–285), got \(top1[0])")
            XCTAssertEqual(top1[1], 967, "coffee.png should be espresso (967)")
            XCTAssertEqual(try model.pooledFeatures(input).shape, [2, 1280])
        }
    }

    /// From the photo file through our decoder and ImageNet evaluation transforms: same top-1.
    func testLite0FromPhotoFileThroughVisionPipeline() throws {
        let (tensors, _) = try ModelFixtures.load("efficientnet.safetensors")
        let pipeline = try ImagePipeline.imagenetEvaluation()
        var generator = SystemRandomNumberGenerator()
        let data = try pipeline(contentsOf: ModelFixtures.asset("photos/chelsea.png").path, using: &generator)
        let input = try Tensor(data.values, shape: [1] + data.shape)
        try withNoGrad {
            let logits = try lite0()(input)
            let expected = try ModelFixtures.tensor(tensors, "logits")[0 ..< 1]
            reportModelParity("EfficientNet-Lite0 logits from chelsea.png via the Swift image pipeline", try maxAbsDifference(logits, expected))
            XCTAssertEqual(try logits.argmax(dim: 1).itemInt(), try ModelFixtures.tensor(tensors, "top5")[0][0].itemInt())
        }
    }

    func testLite0StructureAndKeys() throws {
        let model = try EfficientNet(.lite0)
        let keys = Set(model.stateDict().map(\.name))
        XCTAssertEqual(model.blocks.count, 16)
        for key in ["_conv_stem.weight", "_bn0.running_var", "_blocks.0._depthwise_conv.weight", "_blocks.0._project_conv.weight",
                    "_blocks.1._expand_conv.weight", "_blocks.15._bn2.num_batches_tracked", "_conv_head.weight", "_bn1.bias",
                    "_fc.weight", "_fc.bias"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertFalse(keys.contains("_blocks.0._expand_conv.weight"), "the first block has no expansion")
        XCTAssertEqual(model.parameterCount(), 4_652_008)
        // TensorFlow "SAME": 224 → 112 with the odd padding pixel after.
        XCTAssertTrue(SamePaddingConv2d.padding(size: 224, kernel: 3, stride: 2) == (0, 1))
        XCTAssertTrue(SamePaddingConv2d.padding(size: 225, kernel: 3, stride: 2) == (1, 1))
        XCTAssertTrue(SamePaddingConv2d.padding(size: 14, kernel: 5, stride: 1) == (2, 2))
        model.eval()
        let out = try withNoGrad { try model.featureMap(Tensor.randn([1, 3, 100, 77])) }
        XCTAssertEqual(out.shape, [1, 1280, 4, 3])
    }

    func testWrongCheckpointFailsNamingTheKeys() throws {
        let url = try ModelFixtures.asset("efficientnet-lite0/efficientnet-lite0-57934424.pth")
        var headless = EfficientNetConfiguration.lite0
        headless.classes = 0
        XCTAssertThrowsError(try EfficientNet.pretrained(checkpoint: url, configuration: headless)) { error in
            guard let e = error as? StateDictError else { return XCTFail("expected StateDictError, got \(error)") }
            XCTAssertEqual(e.report.unexpected, ["_fc.bias", "_fc.weight"])
            XCTAssertTrue(e.description.contains(url.path))
        }
        var wider = EfficientNetConfiguration.lite0
        wider.headChannels = 1024
        XCTAssertThrowsError(try EfficientNet.pretrained(checkpoint: url, configuration: wider)) { error in
            XCTAssertTrue("\(error)".contains("_conv_head.weight: model has [1024, 320, 1, 1], checkpoint has [1280, 320, 1, 1]"), "\(error)")
        }
        XCTAssertThrowsError(try EfficientNet.pretrained(checkpoint: URL(fileURLWithPath: "/nonexistent/lite0.pth"))) { error in
            XCTAssertTrue("\(error)".contains("/nonexistent/lite0.pth"), "\(error)")
        }
        XCTAssertThrowsError(try EfficientNet(.lite0)(Tensor.zeros([1, 1, 32, 32]))) { XCTAssertTrue("\($0)".contains("images"), "\($0)") }
    }

    /// Training mode (stochastic depth active); gradients reach the stem. Batch norm is kept in
    /// eval mode here: BatchNorm2d's training step cannot yet count batches on an int64 buffer
    /// (Torch's `add_` passes a floating alpha; reported to the Torch owner).
    func testTrainingStepProducesGradients() throws {
        var tiny = EfficientNetConfiguration(stemChannels: 8, stages: [.init(expandRatio: 1, channels: 8, repeats: 2, stride: 1, kernelSize: 3),
                                                                        .init(expandRatio: 2, channels: 12, repeats: 1, stride: 2, kernelSize: 3)],
                                             headChannels: 16, classes: 3)
        tiny.dropConnectRate = 0.9
        manualSeed(5)
        let model = try EfficientNet(tiny)
        model.train()
        for (_, module) in model.namedModules() where module is BatchNorm2d { module.eval() }
        let input = try Tensor.randn([4, 3, 16, 16])
        let loss = try Functional.crossEntropy(model(input), Tensor([Int64(0), 1, 2, 0]))
        try loss.backward()
        XCTAssertGreaterThan(try XCTUnwrap(model.stem.weight.grad).abs().sum().item(), 0)
        // Stochastic depth makes training-mode outputs random; eval mode is deterministic.
        let a = try withNoGrad { try model(input) }, b = try withNoGrad { try model(input) }
        XCTAssertGreaterThan(try maxAbsDifference(a, b), 0)
        model.eval()
        XCTAssertEqual(try withNoGrad { try maxAbsDifference(model(input), model(input)) }, 0)
    }
}
