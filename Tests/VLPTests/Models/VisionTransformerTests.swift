import Foundation
import Torch
import XCTest
@testable import VLP

final class VisionTransformerTests: TorchTestCase {
    /// The random-weight reference ViT of make_model_fixtures.py, loaded strictly under HF CLIP keys.
    func loadReference() throws -> (model: VisionTransformer, tensors: [String: Tensor]) {
        let (tensors, metadata) = try ModelFixtures.load("vit.safetensors")
        let configuration = try JSONDecoder().decode(VisionTransformerConfiguration.self, from: Data(metadata["config", default: "{}"].utf8))
        let model = try VisionTransformer(configuration)
        try model.loadStateDict(CheckpointFile.selecting(prefix: "state.", from: tensors).selected, strict: true, source: "vit.safetensors")
        model.eval()
        return (model, tensors)
    }

    func testMatchesReferenceAtNativeAndResizedImageSizes() throws {
        let (model, tensors) = try loadReference()
        XCTAssertEqual(model.configuration.activation, "quick_gelu")
        try withNoGrad {
            for name in ["native", "resized"] {
                let output = try model(ModelFixtures.tensor(tensors, "\(name).input"))
                let dHidden = try maxAbsDifference(output.hiddenStates, ModelFixtures.tensor(tensors, "\(name).hidden"))
                let dPooled = try maxAbsDifference(output.pooled, ModelFixtures.tensor(tensors, "\(name).pooled"))
                let dProjected = try maxAbsDifference(XCTUnwrap(output.projected), ModelFixtures.tensor(tensors, "\(name).projected"))
                reportModelParity("ViT (random weights) \(name) hidden/pooled/projected", max(dHidden, dPooled, dProjected))
                XCTAssertLessThanOrEqual(dHidden, 1e-5, name)
                XCTAssertLessThanOrEqual(dPooled, 1e-5, name)
                XCTAssertLessThanOrEqual(dProjected, 1e-5, name)
            }
        }
        XCTAssertEqual(try tensors["resized.hidden"]!.shape, [1, 37, 32])
    }

    func testKeysAreHuggingFaceCLIPVision() throws {
        let model = try VisionTransformer(.init(imageSize: 32, patchSize: 8, width: 16, layers: 2, heads: 2, projectionDim: 8))
        let keys = model.stateDict().map(\.name)
        for key in ["embeddings.patch_embedding.weight", "embeddings.class_embedding", "embeddings.position_embedding.weight",
                    "pre_layrnorm.weight", "encoder.layers.1.self_attn.q_proj.weight", "encoder.layers.1.self_attn.out_proj.bias",
                    "encoder.layers.0.layer_norm1.bias", "encoder.layers.0.mlp.fc1.weight", "encoder.layers.0.mlp.fc2.bias",
                    "encoder.layers.0.layer_norm2.weight", "post_layernorm.bias", "visual_projection.weight"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertEqual(keys.count, 7 + 2 * 16 + 1)
        XCTAssertEqual(try model.embeddings.positionEmbedding.weight.shape, [17, 16])
        let unprojected = try VisionTransformer(.init(imageSize: 32, patchSize: 8, width: 16, layers: 1, heads: 2))
        XCTAssertNil(unprojected.projection)
        XCTAssertEqual(try unprojected.encode(Tensor.randn([3, 3, 32, 32]), normalized: true).shape, [3, 16])
    }

    /// The class position is never resampled; at the native grid the table is used as is.
    func testPositionResamplingKeepsClassPosition() throws {
        let model = try VisionTransformer(.init(imageSize: 32, patchSize: 8, width: 4, layers: 0, heads: 1))
        let table = model.embeddings.positionEmbedding.weight
        try withNoGrad {
            let resized = try model.embeddings.positions(gridHeight: 8, gridWidth: 6)
            XCTAssertEqual(resized.shape, [49, 4])
            XCTAssertEqual(try maxAbsDifference(resized[0], table[0]), 0)
            XCTAssertEqual(try maxAbsDifference(model.embeddings.positions(gridHeight: 4, gridWidth: 4), table), 0)
        }
    }

    func testInvalidInputsAndConfigurationsAreNamed() throws {
        let model = try VisionTransformer(.init(imageSize: 32, patchSize: 8, width: 16, layers: 1, heads: 2))
        XCTAssertThrowsError(try model(Tensor.randn([1, 3, 30, 32]))) { XCTAssertTrue("\($0)".contains("multiples of 8"), "\($0)") }
        XCTAssertThrowsError(try VisionTransformer(.init(imageSize: 30, patchSize: 8, width: 16, layers: 1, heads: 2))) {
            XCTAssertTrue("\($0)".contains("patch_size"), "\($0)")
        }
        XCTAssertThrowsError(try VisionTransformer(.init(imageSize: 32, patchSize: 8, width: 16, layers: 1, heads: 3))) {
            XCTAssertTrue("\($0)".contains("heads"), "\($0)")
        }
        let (tensors, _) = try ModelFixtures.load("vit.safetensors")
        let wrong = try VisionTransformer(.init(imageSize: 32, patchSize: 8, width: 32, layers: 3, heads: 4, mlpWidth: 64, projectionDim: 16))
        XCTAssertThrowsError(try wrong.loadStateDict(CheckpointFile.selecting(prefix: "state.", from: tensors).selected, source: "vit.safetensors")) { error in
            XCTAssertTrue("\(error)".contains("missing keys (16)"), "\(error)")
            XCTAssertTrue("\(error)".contains("encoder.layers.2.self_attn.q_proj.weight"), "\(error)")
        }
    }
}
