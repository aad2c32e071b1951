import ArgumentParser
import Foundation
import Torch
import VLP

/// `vlp embed text|image`: one embedding per input, written as a float32 `.npy` matrix
/// (`--out`) or printed as JSON lines (`--json`: `{"input": …, "embedding": […]}` in input order).
///
/// Text: a Hugging Face BERT directory (config.json, vocab.txt, model.safetensors); pooled by
/// `[CLS]`, the mean over the tokens, or BERT's pooler. Image: an EfficientNet-Lite0 checkpoint
/// (`.pth` / `.safetensors`); images are decoded, resized to 256 (short side, bilinear),
/// centre-cropped to 224, ImageNet-normalised; the embedding is the globally pooled head features.
struct EmbedCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "embed",
        abstract: "Embed texts or images with a trained swift-vlp checkpoint, a BERT directory (text) or EfficientNet-Lite0 (image).")

    enum Modality: String, ExpressibleByArgument, CaseIterable { case text, image }

    @Argument(help: "What to embed: text or image.")
    var modality: Modality

    @Argument(help: "Texts, or image paths (or use --file).")
    var inputs: [String] = []

    @Option(help: "Read inputs from this file, one a line.")
    var file: String?

    @Option(help: "A swift-vlp model bundle (run, checkpoint or imported model folder; text and image), a Hugging Face BERT directory (text) or an EfficientNet-Lite0 .pth/.safetensors file (image).")
    var checkpoint: String

    @Option(help: "Text pooling: \(TextPooling.allCases.map(\.rawValue).joined(separator: ", ")) (default cls).")
    var pooling: TextPooling?

    @Flag(help: "L2-normalise each embedding.")
    var normalize = false

    @Option(help: "Inputs per forward pass.")
    var batchSize = 32

    @Option(help: "Text: cut texts to this many tokens, special tokens included (default: a BERT directory's positions; for a swift-vlp bundle the context length it trained with).")
    var maxLength: Int?

    @Option(help: "Write the embeddings as a float32 [count, dim] .npy file.")
    var out: String?

    @Flag(help: "Print one JSON object per input: {\"input\": …, \"embedding\": […]}.")
    var json = false

    func validate() throws {
        if file == nil && inputs.isEmpty { throw ValidationError("give inputs or --file") }
        if file != nil && !inputs.isEmpty { throw ValidationError("give either inputs or --file, not both") }
        if (out == nil) == (!json) { throw ValidationError("give exactly one of --out F.npy and --json") }
        if batchSize < 1 { throw ValidationError("--batch-size must be at least 1") }
        if modality == .image && pooling != nil { throw ValidationError("--pooling applies to text only") }
        if let maxLength, maxLength < 2 { throw ValidationError("--max-length must leave room for [CLS] and [SEP]") }
    }

    func run() throws {
        let items = try readInputs()
        let url = URL(fileURLWithPath: checkpoint)
        let bundle = ModelBundle.isBundle(checkpoint) ? try ModelBundle.open(checkpoint) : nil
        if bundle != nil && pooling != nil { throw ValidationError("--pooling applies to BERT directories; a swift-vlp model embeds with its projection") }
        let embeddings: Tensor = try withInferenceMode {
            if let bundle {
                // A swift-vlp bundle: the towers' L2-normalised contrastive features.
                guard bundle.model.towers != nil else {
                    throw ValidationError("\(checkpoint) is a single-stream model, which has no separate text or image embedding")
                }
                let embedder = try TowerEmbedder(bundle, batchSize: batchSize, maxLength: maxLength)
                switch modality {
                case .text: return try embedder.textFeatures(items)
                case .image: return try embedder.imageFeatures(files: items)
                }
            }
            var parts: [Tensor] = []
            switch modality {
            case .text:
                let (model, _) = try BertModel.pretrained(directory: url)
                let tokenizer = try BertTokenizer.huggingFace(directory: url)
                let limit = maxLength ?? model.configuration.maxPositions
                for start in stride(from: 0, to: items.count, by: batchSize) {
                    let texts = try items[start..<min(start + batchSize, items.count)].map { try tokenizer.encode($0, maxLength: limit) }
                    let batch = try TextBatch(texts, paddingID: tokenizer.paddingID)
                    parts.append(try model.encode(batch.inputIDs, attentionMask: batch.attentionMask, tokenTypeIDs: batch.tokenTypeIDs,
                                                  pooling: pooling ?? .cls, normalized: normalize))
                }
            case .image:
                let model = try EfficientNet.pretrained(checkpoint: url)
                let pipeline = try ImagePipeline.imagenetEvaluation()
                var generator = SystemRandomNumberGenerator()
                for start in stride(from: 0, to: items.count, by: batchSize) {
                    let paths = items[start..<min(start + batchSize, items.count)]
                    var values: [Float] = []
                    var shape: [Int] = []
                    for path in paths {
                        let image = try pipeline(contentsOf: path, using: &generator)
                        values += image.values
                        shape = image.shape
                    }
                    let features = try model.pooledFeatures(Tensor(values, shape: [paths.count] + shape))
                    parts.append(normalize ? try Functional.normalize(features, dim: -1) : features)
                }
            }
            return try cat(parts, dim: 0)
        }
        let values = try embeddings.floats()
        if let out {
            try NumpyArrayFile.write(values, shape: embeddings.shape, to: URL(fileURLWithPath: out))
            FileHandle.standardError.write(Data("wrote \(embeddings.shape[0])×\(embeddings.shape[1]) embeddings to \(out)\n".utf8))
        } else {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes]
            let dim = embeddings.shape[1]
            for (i, input) in items.enumerated() {
                let input = String(decoding: try encoder.encode(input), as: UTF8.self)
                let vector = String(decoding: try encoder.encode(Array(values[(i * dim)..<((i + 1) * dim)])), as: UTF8.self)
                print("{\"input\":\(input),\"embedding\":\(vector)}")
            }
        }
    }

    func readInputs() throws -> [String] {
        guard let file else { return inputs }
        guard let data = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
        var lines = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
            .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        if lines.last == "" { lines.removeLast() }
        guard !lines.isEmpty else { throw ValidationError("\(file) holds no inputs") }
        return lines
    }
}

extension TextPooling: ExpressibleByArgument {}
