import ArgumentParser
import Foundation
import Torch
import VLP

extension ImportFamily: ExpressibleByArgument {}
extension TransformerMLP.ActivationKind: ExpressibleByArgument {}

/// `vlp import [--from FAMILY] FILE --output DIR`: a released checkpoint of another project
/// becomes a swift-vlp model bundle, which `vlp embed`, `vlp evaluate` and the other commands
/// then open like any checkpoint of ours.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Convert a released checkpoint (Chinese-CLIP, OpenCLIP / OpenAI CLIP, Hugging Face CLIP or Chinese-CLIP, R2D2) into a swift-vlp model bundle.",
        discussion: """
            Sizes are read from the tensor shapes; the head counts follow the family's convention \
            unless --config gives them. Every key of the checkpoint is used or deliberately ignored \
            (import.json lists the ignored ones); anything else is an error naming it. The MLP \
            activation is not in the weights: OpenCLIP's own models use gelu (the default), OpenAI's \
            CLIP weights quick_gelu (--activation quick_gelu; assumed for OpenAI's TorchScript archives, \
            ViT-B-32.pt as OpenAI distributes it, which are read through libtorch's TorchScript loader). \
            An R2D2 checkpoint brings both cross encoders and their match heads: vlp search --rerank \
            and vlp evaluate then score candidates as R2D2 does (cosine + mean match probability).
            """)

    @Argument(help: "The checkpoint file (.pt, .pth, .bin, .ckpt or .safetensors; a TorchScript archive for OpenAI's CLIPs), or a Hugging Face CLIPModel / ChineseCLIPModel directory.")
    var file: String

    @Option(name: .customLong("from"), help: "The checkpoint's family: \(ImportFamily.allowedNames) (default: detected from its keys).")
    var family: ImportFamily?

    @Option(help: "The bundle folder to write.")
    var output: String

    @Flag(help: "Replace --output when it is already a model bundle (or an empty folder).")
    var overwrite = false

    @Option(help: "A model configuration (a name from the built-in list, or a .json file) giving the head counts; checked against the checkpoint's shapes.")
    var config: String?

    @Option(help: "The tokenizer vocabulary to copy into the bundle (default: the family's, assets/cn-clip/vocab.txt or assets/open-clip/bpe_simple_vocab_16e6.txt.gz).")
    var vocabulary: String?

    @Option(help: "Token positions per text (default: the family's, 52 for Chinese-CLIP, 64 for R2D2, the text tower's 77 for OpenCLIP).")
    var contextLength: Int?

    @Option(help: "The towers' MLP activation, not recorded in the weights: gelu or quick_gelu (default: --config's, else the family's: gelu for OpenCLIP, quick_gelu for OpenAI's TorchScript archives, Chinese-CLIP and R2D2).")
    var activation: TransformerMLP.ActivationKind?

    func validate() throws {
        if let contextLength, contextLength < 2 { throw ValidationError("--context-length must leave room for [CLS] and [SEP]") }
    }

    func run() throws {
        var options = ImportOptions(vocabulary: vocabulary.map { URL(fileURLWithPath: $0) }, contextLength: contextLength,
                                    activation: activation)
        if let config {
            let isFile = config.hasSuffix(".json") || FileManager.default.fileExists(atPath: config)
            options.configuration = isFile ? try ModelConfigurationRegistry.load(contentsOf: URL(fileURLWithPath: config))
                                           : try ModelConfigurationRegistry.load(config)
            options.configurationSource = config
        }
        let imported = try withNoGrad {
            try ImportFamily.importModel(from: URL(fileURLWithPath: file), family: family, options: options)
        }
        try imported.write(to: URL(fileURLWithPath: output), overwrite: overwrite)
        let c = imported.configuration
        print("import: \(imported.family.rawValue) \(file) -> \(output)")
        print("  image tower: \(c.vision.summary); text tower: \(c.text.summary); embed dim \(c.embedDim)")
        print("  \(imported.weights.count) tensors written (\(imported.convertedTensors) converted to float32); \(imported.ignoredKeys.count) source keys ignored\(imported.ignoredKeys.isEmpty ? "" : " (listed in \(ImportedModel.recordFile))")")
        if !imported.initializedKeys.isEmpty {
            print("  \(imported.initializedKeys.count) tensors the checkpoint lacks were initialised fresh (listed in \(ImportedModel.recordFile)): \(Set(imported.initializedKeys.map { $0.split(separator: ".")[0] }).sorted().joined(separator: ", "))")
        }
        print("  inputs: \(imported.preprocessing.text.tokenizer.rawValue) tokenizer, context \(imported.preprocessing.text.contextLength); images \(imported.preprocessing.image.resize.rawValue) to \(imported.preprocessing.image.size) px, \(imported.preprocessing.image.interpolation.rawValue)")
    }
}
