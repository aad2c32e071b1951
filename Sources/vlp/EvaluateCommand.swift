import ArgumentParser
import Foundation
import Torch
import VLP

/// `vlp evaluate retrieval|matching|zeroshot|compositional --checkpoint RUN_OR_FOLDER --data …`.
///
/// `--data` is a dataset path (any format `vlp data inspect` reads; `--split` picks one of its parts) or `scenes:SET:SPLIT`
/// for the built-in corpus (e.g. `scenes:icr:test`). Zero-shot reads a label set (image folders,
/// idx files) with `--classes` names (comma-separated, in label order) or a built-in
/// `scenes-shape` / `scenes-color` task.
struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Evaluate a checkpoint: retrieval (R@1/5/10, R@M, two-stage), matching (AUC), zero-shot, compositional.")

    enum Task: String, ExpressibleByArgument, CaseIterable { case retrieval, matching, zeroshot, compositional }

    @Argument(help: "retrieval, matching, zeroshot or compositional.")
    var task: Task

    @Option(help: "A checkpoint folder (step-*), or a run folder (its latest checkpoint).")
    var checkpoint: String

    @Option(help: "Dataset path, or scenes:SET:SPLIT (e.g. scenes:icr:test); zeroshot: a label set or scenes-shape / scenes-color.")
    var data: String

    @Option(help: "Dataset format when it cannot be detected (\(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))).")
    var format: String?

    @Option(help: "The part of a dataset holding several (a Chinese-CLIP folder's train, valid or test; `vlp data inspect` lists them).")
    var split: String?

    @Option(help: "Text kinds to use (comma-separated, e.g. title,query).")
    var kinds: String?

    @Option(help: "Re-rank each query's top k with the cross encoders (0: off).")
    var rerankTopK = 10

    @Option(help: "Zero-shot: class names in label order, comma-separated.")
    var classes: String?

    @Option(help: "Zero-shot template language: en or zh.")
    var language = "en"

    @Option(help: "Built-in corpus size (items) for scenes: data.")
    var scenesSize = 1000

    @Option(help: "Token positions per text.")
    var contextLength = 32

    @Flag(help: "Print the metrics as one JSON object.")
    var json = false

    @Option(help: "cpu, cuda or cuda:N: where the model runs.")
    var device = "cpu"

    func run() throws {
        let device = try Device(parsing: device)
        try device.checkAvailable()
        let model = try TrainingCheckpoint.loadModel(checkpoint)
        try model.module.to(device)
        let imageSize = model.configuration.vision.imageSize
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let output: Data
        switch task {
        case .retrieval:
            let set = try EvaluationSet.load(dataConfig(), imageSize: imageSize)
            let result = try withNoGrad { try RetrievalEvaluation.run(model, on: set, rerankTopK: rerankTopK) }
            output = try encoder.encode(result)
            if !json { printRetrieval(result, set: set) }
        case .matching:
            let set = try EvaluationSet.load(dataConfig(), imageSize: imageSize, includeNegatives: true)
            let result = try withNoGrad { try MatchingEvaluation.run(model, on: set) }
            output = try encoder.encode(result)
            if !json {
                print(String(format: "matching on %d pairs: AUC %.2f%%, accuracy %.2f%% (similarity)", result.pairs, result.auc * 100, result.accuracy))
                if let auc = result.matchHeadAUC, let accuracy = result.matchHeadAccuracy {
                    print(String(format: "match head: AUC %.2f%%, accuracy %.2f%%", auc * 100, accuracy))
                }
            }
        case .compositional:
            let set = try EvaluationSet.load(dataConfig(), imageSize: imageSize, includeNegatives: true)
            let result = try withNoGrad { try CompositionalEvaluation.run(model, on: set) }
            output = try encoder.encode(result)
            if !json {
                for (name, r) in [("dual encoder", result.dualEncoder), ("match head", result.matchHead)] {
                    guard let r else { continue }
                    print("\(name): " + r.accuracy.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))% (\(r.counts[$0.key] ?? 0))" }.joined(separator: ", ") + String(format: "; overall %.1f%%", r.overall))
                }
                if !result.indistinguishable.isEmpty {
                    print("left out, the same tokens after cutting to \(contextLength): " + result.indistinguishable.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                }
            }
        case .zeroshot:
            let result = try zeroShot(model, imageSize: imageSize)
            output = try encoder.encode(result)
            if !json { print(String(format: "zero-shot on %d images, %d classes: top-1 %.2f%%, top-5 %.2f%%", result.images, result.classes, result.top1, result.top5)) }
        }
        if json { print(String(decoding: output, as: UTF8.self)) }
    }

    func dataConfig() throws -> TrainingDataDescription {
        let kindList = try kinds.map { list in
            try list.split(separator: ",").map { name in
                guard let kind = TextKind(rawValue: String(name)) else {
                    throw ValidationError("--kinds: no text kind \(name); allowed: \(TextKind.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return kind
            }
        }
        var description: TrainingDataDescription
        if data.hasPrefix("scenes:") {
            let parts = data.split(separator: ":").map(String.init)
            guard parts.count == 3 else { throw ValidationError("--data scenes:SET:SPLIT, e.g. scenes:icr:test") }
            guard let set = ScenesSet(rawValue: parts[1]), let split = DataSplit(rawValue: parts[2]) else {
                throw ValidationError("--data \(data): sets are \(ScenesSet.allCases.map(\.rawValue).joined(separator: ", ")); splits \(DataSplit.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            description = .scenes(size: scenesSize, seed: 8, set: set, split: split)
            description.textKinds = kindList ?? [.title]
        } else {
            let datasetFormat = try format.map { name in
                guard let format = DatasetFormat(rawValue: name) else {
                    throw ValidationError("--format \(name) is not a format; allowed: \(DatasetFormat.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                return format
            }
            description = .dataset(path: data, format: datasetFormat, split: split)
            description.textKinds = kindList
        }
        description.contextLength = contextLength
        return description
    }

    func zeroShot(_ model: PretrainingModel, imageSize: Int) throws -> ZeroShotResult {
        let tokenizer = try BertTokenizer.chineseCLIP()
        let templates = try PromptTemplates.templates(language: language)
        let samples: [Sample], names: [String]
        if data == "scenes-shape" || data == "scenes-color" {
            let attribute: ScenesZeroShot.Attribute = data == "scenes-shape" ? .shape : .color
            samples = ScenesZeroShot.samples(try ScenesCorpus(seed: 9, imageSize: imageSize), attribute: attribute, count: 280)
            names = ScenesZeroShot.classNames(attribute, language: language)
        } else {
            guard let classes else { throw ValidationError("zeroshot on a dataset needs --classes NAME,NAME,… in label order") }
            names = classes.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            samples = try DatasetFormat.openPart(data, format: format.flatMap(DatasetFormat.init(rawValue:)), part: split).reader.readAll()
        }
        let set = try EvaluationSet.make(name: data, samples: samples, tokenizer: tokenizer, contextLength: contextLength, imageSize: imageSize)
        return try ZeroShotEvaluation.run(model, on: set, classNames: names, templates: templates,
                                          tokenizer: tokenizer, contextLength: contextLength)
    }

    func printRetrieval(_ result: RetrievalEvaluation, set: EvaluationSet) {
        func row(_ name: String, _ r: RetrievalResult, _ seconds: Double?) -> String {
            String(format: "%-22@ i→t %5.1f %5.1f %5.1f   t→i %5.1f %5.1f %5.1f   R@M %5.1f   %@", name as NSString,
                   r.i2t.r1, r.i2t.r5, r.i2t.r10, r.t2i.r1, r.t2i.r5, r.t2i.r10, r.rmean, seconds.map { String(format: "%.2f s", $0) } ?? "")
        }
        print("retrieval on \(set.name): \(set.imageCount) images, \(set.texts.count) texts (R@1 R@5 R@10, %)")
        print(row("ranking", result.ranking, result.rankingSeconds))
        if let reranked = result.reranked { print(row("two-stage (top \(result.rerankTopK))", reranked, result.rerankSeconds)) }
    }
}
