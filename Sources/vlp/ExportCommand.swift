import ArgumentParser
import Foundation
import VLP

/// `vlp export --merge-lora CHECKPOINT --output DIR`: a checkpoint (or a run's latest) as a plain
/// model bundle — configuration, weights, preprocessing and tokenizer, without the optimizer and
/// trainer state — with a LoRA run's adapters folded into the weights (W + alpha/r·B·A), so any
/// command or another program opens it as an ordinary model.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a checkpoint as a plain model bundle, folding LoRA adapters into the weights (--merge-lora).")

    @Argument(help: "The checkpoint folder, or a run folder (its latest checkpoint).")
    var checkpoint: String

    @Option(help: "The bundle folder to write.")
    var output: String

    @Flag(help: "Fold LoRA adapters into their weights (W + alpha/r·B·A); a checkpoint with adapters needs it.")
    var mergeLora = false

    @Flag(help: "Replace --output when it is already a model bundle (or an empty folder).")
    var overwrite = false

    func run() throws {
        let summary = try ModelBundle.export(checkpoint, to: URL(fileURLWithPath: output), mergingAdapters: mergeLora, overwrite: overwrite)
        print("export: \(checkpoint) -> \(summary.folder.path): \(summary.tensors) tensors, \(summary.parameters) parameters; \(summary.mergedLayers) LoRA adapter(s) merged")
    }
}
