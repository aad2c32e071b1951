import Foundation
import Torch
import XCTest
@testable import VLP

final class BertModelTests: TorchTestCase {
    /// all-MiniLM-L6-v2 from assets/minilm, loaded once for the tests that need it.
    nonisolated(unsafe) static var miniLM: (model: BertModel, summary: PretrainedLoadSummary)?

    func miniLM() throws -> (model: BertModel, summary: PretrainedLoadSummary) {
        if let loaded = Self.miniLM { return loaded }
        let loaded = try BertModel.pretrained(directory: ModelFixtures.asset("minilm"))
        Self.miniLM = loaded
        return loaded
    }

    static func tinyConfiguration(modelType: String = "bert") -> BertConfiguration {
        BertConfiguration(modelType: modelType, vocabularySize: 50, hiddenSize: 16, layers: 2, heads: 4, intermediateSize: 32,
                          maxPositions: 24, layerNormEps: 1e-12, hiddenDropout: 0, attentionDropout: 0, padTokenID: modelType == "roberta" ? 1 : 0)
    }

    /// Our tokenizer + encoder against transformers' BertModel with sentence-transformers pooling,
    /// on 20 real sentences in one padded batch.
    func testMiniLMSentenceEmbeddingsMatchTransformers() throws {
        let (tensors, metadata) = try ModelFixtures.load("minilm.safetensors")
        let sentences = try JSONDecoder().decode([String].self, from: Data(metadata["sentences", default: "[]"].utf8))
        XCTAssertEqual(sentences.count, 20)
        let tokenizer = try BertTokenizer.englishUncased(vocabularyFile: ModelFixtures.asset("minilm/vocab.txt").path)
        let batch = try TextBatch(sentences.map { try tokenizer.encode($0) }, paddingID: tokenizer.paddingID)
        // Compared as tensors so that a failure prints one line, not thousands of ids.
        XCTAssertEqual(batch.inputIDs.shape, try ModelFixtures.tensor(tensors, "input_ids").shape)
        XCTAssertTrue(try (batch.inputIDs .== ModelFixtures.tensor(tensors, "input_ids")).all(), "our tokenizer's ids differ from the reference tokenizer's")
        XCTAssertTrue(try (batch.attentionMask .== ModelFixtures.tensor(tensors, "attention_mask")).all(), "attention masks differ")

        let (model, _) = try miniLM()
        try withNoGrad {
            let output = try model(batch.inputIDs, attentionMask: batch.attentionMask, tokenTypeIDs: batch.tokenTypeIDs)
            let embedding = try model.encode(batch.inputIDs, attentionMask: batch.attentionMask, pooling: .mean, normalized: true)
            let dEmbedding = try maxAbsDifference(embedding, ModelFixtures.tensor(tensors, "embedding"))
            let dCLS = try maxAbsDifference(output.hiddenStates.select(dim: 1, index: 0), ModelFixtures.tensor(tensors, "cls_hidden"))
            let dPooler = try maxAbsDifference(XCTUnwrap(output.pooled), ModelFixtures.tensor(tensors, "pooler"))
            reportModelParity("MiniLM-L6 mean-pooled normalised embeddings (20 sentences)", dEmbedding)
            reportModelParity("MiniLM-L6 [CLS] hidden state", dCLS)
            reportModelParity("MiniLM-L6 pooler output", dPooler)
            XCTAssertLessThanOrEqual(dEmbedding, 1e-4)
            XCTAssertLessThanOrEqual(dCLS, 1e-4)
            XCTAssertLessThanOrEqual(dPooler, 1e-4)
            // Normalised rows, and different sentences give different vectors.
            let norms = try embedding.norm(2, dims: [1]).toArray(Float.self)
            XCTAssertTrue(norms.allSatisfy { abs($0 - 1) < 1e-5 })
            XCTAssertGreaterThan(try maxAbsDifference(embedding[0], embedding[1]), 0.05)
        }
    }

    func testMiniLMLoadsStrictlyIgnoringOnlyPositionIDs() throws {
        let (model, summary) = try miniLM()
        XCTAssertEqual(summary.prefix, "")
        XCTAssertEqual(summary.ignoredKeys, ["embeddings.position_ids"])
        XCTAssertNotNil(model.pooler)
        XCTAssertFalse(model.isTraining)
        let keys = Set(model.stateDict().map(\.name))
        for key in ["embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight", "encoder.layer.0.attention.self.query.weight",
                    "encoder.layer.5.attention.output.dense.bias", "encoder.layer.5.attention.output.LayerNorm.weight",
                    "encoder.layer.3.intermediate.dense.weight", "encoder.layer.3.output.dense.weight",
                    "encoder.layer.3.output.LayerNorm.bias", "pooler.dense.weight"] {
            XCTAssertTrue(keys.contains(key), key)
        }
        XCTAssertEqual(keys.count, 103)
    }

    /// A checkpoint for another shape fails with every mismatching key named.
    func testWrongCheckpointFailsNamingTheKeys() throws {
        let tensors = try SafeTensors.read(ModelFixtures.asset("minilm/model.safetensors")).tensors
        var fewer = try BertConfiguration.load(contentsOf: ModelFixtures.asset("minilm/config.json"))
        fewer.layers = 5
        XCTAssertThrowsError(try BertModel.pretrained(configuration: fewer, tensors: tensors, source: "minilm")) { error in
            guard let e = error as? StateDictError else { return XCTFail("expected StateDictError, got \(error)") }
            XCTAssertEqual(e.report.unexpected.count, 16)
            XCTAssertTrue(e.report.unexpected.contains("encoder.layer.5.attention.self.query.weight"))
            XCTAssertTrue(e.description.contains("minilm"))
        }
        var wider = try BertConfiguration.load(contentsOf: ModelFixtures.asset("minilm/config.json"))
        wider.intermediateSize = 1024
        XCTAssertThrowsError(try BertModel.pretrained(configuration: wider, tensors: tensors, source: "minilm")) { error in
            guard let e = error as? StateDictError else { return XCTFail("expected StateDictError, got \(error)") }
            XCTAssertEqual(e.report.shapeMismatches.count, 18)
            XCTAssertTrue(e.description.contains("encoder.layer.0.intermediate.dense.weight: model has [1024, 384], checkpoint has [1536, 384]"),
                          e.description)
        }
        // Not a BERT checkpoint at all.
        XCTAssertThrowsError(try BertModel.pretrained(configuration: fewer, tensors: ["_fc.weight": try Tensor.zeros([2, 2])], source: "x.pth")) { error in
            XCTAssertTrue("\(error)".contains("embeddings.word_embeddings.weight"), "\(error)")
        }
        // A wrong position_ids buffer is not silently dropped.
        var bad = tensors
        bad["embeddings.position_ids"] = try Tensor.zeros([1, 512], dtype: .int64)
        XCTAssertThrowsError(try BertModel.pretrained(configuration: try BertConfiguration.load(contentsOf: ModelFixtures.asset("minilm/config.json")),
                                                      tensors: bad, source: "minilm")) { error in
            XCTAssertTrue("\(error)".contains("position_ids"), "\(error)")
        }
    }

    /// A checkpoint saved with heads (`bert.` prefix, `cls.*`) loads the encoder and lists the heads.
    func testPrefixedCheckpointLoadsEncoderAndReportsHeads() throws {
        let configuration = Self.tinyConfiguration()
        let source = try BertModel(configuration, withPooler: false)
        var tensors: [String: Tensor] = [:]
        for (name, t) in source.stateDict() { tensors["bert." + name] = t }
        tensors["cls.predictions.bias"] = try Tensor.zeros([50])
        let (loaded, summary) = try BertModel.pretrained(configuration: configuration, tensors: tensors, source: "mlm.bin")
        XCTAssertEqual(summary.prefix, "bert.")
        XCTAssertEqual(summary.ignoredKeys, ["cls.predictions.bias"])
        XCTAssertNil(loaded.pooler)
        let ids = try Tensor([Int64(2), 7, 9, 3], shape: [1, 4])
        try withNoGrad {
            source.eval()
            XCTAssertEqual(try maxAbsDifference(loaded(ids).hiddenStates, source(ids).hiddenStates), 0)
        }
    }

    /// Padding keys are ignored: a text's states do not change when the batch is padded.
    func testPaddingDoesNotChangeRealTokens() throws {
        manualSeed(3)
        let model = try BertModel(Self.tinyConfiguration())
        model.eval()
        let short = try Tensor([Int64(2), 11, 12, 3], shape: [1, 4])
        let padded = try Tensor([Int64(2), 11, 12, 3, 0, 0, 0], shape: [1, 7])
        let mask = try Tensor([Int64(1), 1, 1, 1, 0, 0, 0], shape: [1, 7])
        try withNoGrad {
            let a = try model(short).hiddenStates
            let b = try model(padded, attentionMask: mask).hiddenStates.narrowed(dim: 1, start: 0, length: 4)
            XCTAssertLessThan(try maxAbsDifference(a, b), 1e-5)
            let unmasked = try model(padded).hiddenStates.narrowed(dim: 1, start: 0, length: 4)
            XCTAssertGreaterThan(try maxAbsDifference(a, unmasked), 1e-4, "without the mask, padding must change the result")
            let mean = try model.encode(padded, attentionMask: mask, pooling: .mean)
            XCTAssertLessThan(try maxAbsDifference(mean, a.mean(dim: 1)), 1e-5)
            let weights = try model(padded, attentionMask: mask, returnAttentionWeights: true).attentionWeights
            XCTAssertEqual(weights.count, 2)
            XCTAssertEqual(weights[0].shape, [1, 4, 7, 7])
            XCTAssertEqual(try weights[0].narrowed(dim: 3, start: 4, length: 3).abs().max().item(), 0)
        }
    }

    func testRobertaPositionsSkipPadding() throws {
        let model = try BertModel(Self.tinyConfiguration(modelType: "roberta"))
        let ids = try Tensor([Int64(0), 5, 6, 2, 1, 1], shape: [1, 6])
        XCTAssertEqual(try model.embeddings.defaultPositions(ids).toArray(Int64.self), [2, 3, 4, 5, 1, 1])
        let bert = try BertModel(Self.tinyConfiguration())
        XCTAssertEqual(try bert.embeddings.defaultPositions(ids).toArray(Int64.self), [0, 1, 2, 3, 4, 5])
    }

    func testInputErrorsNameTheArgument() throws {
        let model = try BertModel(Self.tinyConfiguration())
        XCTAssertThrowsError(try model(try Tensor.zeros([1, 30], dtype: .int64))) { XCTAssertTrue("\($0)".contains("exceeds the 24 positions"), "\($0)") }
        XCTAssertThrowsError(try model(try Tensor.zeros([1, 3]))) { XCTAssertTrue("\($0)".contains("inputIDs"), "\($0)") }
        XCTAssertThrowsError(try model(try Tensor.zeros([1, 3], dtype: .int64), attentionMask: try Tensor.ones([1, 4], dtype: .int64))) {
            XCTAssertTrue("\($0)".contains("attentionMask"), "\($0)")
        }
        var bad = Self.tinyConfiguration()
        bad.heads = 5
        XCTAssertThrowsError(try BertModel(bad)) { XCTAssertTrue("\($0)".contains("not divisible"), "\($0)") }
        bad = Self.tinyConfiguration()
        bad.hiddenActivation = "mish"
        XCTAssertThrowsError(try BertModel(bad)) { XCTAssertTrue("\($0)".contains("mish"), "\($0)") }
    }

    func testConfigurationDecodesHuggingFaceJSON() throws {
        let c = try BertConfiguration.load(contentsOf: ModelFixtures.asset("minilm/config.json"))
        XCTAssertEqual(c.hiddenSize, 384)
        XCTAssertEqual(c.layers, 6)
        XCTAssertEqual(c.heads, 12)
        XCTAssertEqual(c.intermediateSize, 1536)
        XCTAssertEqual(c.layerNormEps, 1e-12)
        XCTAssertEqual(c.vocabularySize, 30522)
        XCTAssertEqual(c.modelType, "bert")
    }
}
