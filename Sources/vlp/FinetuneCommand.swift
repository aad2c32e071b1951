import ArgumentParser
import Foundation
import VLP
import Torch

/// `vlp finetune retrieval|matching --checkpoint C --data D --steps N --output O`: continues
/// training a pretrained checkpoint. Retrieval uses R2D2's fine-tuning objectives — GCPR + FGR for
/// R2D2 (GCPR alone for a dual encoder, ITM for the single-stream model); matching trains the
/// match heads on the set's labelled pairs (1 = the text describes the image, 0 = it does not;
/// ICM / IQM style), which needs a model with match heads (R2D2, single stream). The run is an ordinary
/// `vlp pretrain` run (the config it used is written to OUTPUT/finetune.yaml), so `--resume`,
/// checkpoints and `metrics.jsonl` work the same.
struct FinetuneCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "finetune",
        abstract: "Fine-tune a checkpoint for retrieval (GCPR + FGR) or matching (match heads on labelled pairs).")

    enum Task: String, ExpressibleByArgument, CaseIterable { case retrieval, matching }

    @Argument(help: "retrieval or matching")
    var task: Task

    @Option(help: "The pretrained checkpoint (folder or run).")
    var checkpoint: String

    @Option(help: "Training data: a dataset path, or scenes:SET:SPLIT.")
    var data: String

    @Option(help: "The part of a dataset holding several (a Chinese-CLIP folder's train, valid or test).")
    var split: String?

    @Option(help: "Dataset format when it cannot be detected.")
    var format: String?

    @Option(help: "Text kinds to train on (comma-separated).")
    var kinds: String?

    @Option var steps = 200
    @Option var batchSize = 32
    @Option var lr = 2e-4
    @Option(help: "Output folder.")
    var output: String
    @Flag(help: "Continue from the latest checkpoint in the output folder.")
    var resume = false
    @Option(help: "cpu, cuda or cuda:N (under a launcher, cuda means cuda:LOCAL_RANK, reduced with NCCL).")
    var device = "cpu"

    func run() throws {
        // The architecture decides the objectives; the weights are loaded once, by the trainer (init_from).
        let configFile = try TrainingCheckpoint.resolve(checkpoint).appendingPathComponent(TrainingCheckpoint.configFile)
        let weights: String
        switch (task, try TrainingCheckpoint.configuration(checkpoint).architecture) {
        case (.retrieval, .r2d2): weights = "{gcpr: 1, fgr: 1}"
        case (.retrieval, .dualEncoder): weights = "{gcpr: 1}"
        case (.retrieval, .singleStream): weights = "{itm: 1}"
        case (.matching, .dualEncoder):
            throw ValidationError("matching fine-tuning trains match heads; \(checkpoint) is a dual encoder, which has none (evaluate matching by similarity instead)")
        case (.matching, _): weights = "{match: 1}"
        }
        var dataLine: String
        if data.hasPrefix("scenes:") {
            let parts = data.split(separator: ":")
            guard parts.count == 3 else { throw ValidationError("--data scenes:SET:SPLIT") }
            dataLine = "{source: scenes, set: \(parts[1]), split: \(parts[2]), size: 5000, seed: 7"
        } else {
            dataLine = "{path: \"\(data)\"" + (format.map { ", format: \($0)" } ?? "") + (split.map { ", split: \"\($0)\"" } ?? "")
        }
        if let kinds { dataLine += ", text_kinds: [\(kinds)]" }
        if task == .matching { dataLine += ", include_negatives: true" }
        dataLine += "}"
        let yaml = """
        model: "\(configFile.path)"
        init_from: "\(checkpoint)"
        recipe: {name: finetune-\(task.rawValue), weights: \(weights)}
        data: \(dataLine)
        steps: \(steps)
        batch_size: \(batchSize)
        optimizer: {lr: \(lr)}
        schedule: {name: cosine, warmup_steps: \(max(1, steps / 10))}
        output: "\(output)"
        checkpoint: {every: \(max(1, steps / 2)), keep: 2}
        log_every: \(max(1, steps / 20))
        """
        try AtomicFile.makeFolder(output)
        try Data(yaml.utf8).write(to: URL(fileURLWithPath: output).appendingPathComponent("finetune.yaml"))
        let config = try PretrainingConfig(yaml: yaml, source: "finetune.yaml")
        let summary = try Trainer(config: config, device: try Device(parsing: device)).run(resume: resume)
        print("finetune: \(summary.steps) steps in \(String(format: "%.1f", summary.seconds)) s; checkpoint \(summary.checkpoint?.path ?? "none")")
    }
}
