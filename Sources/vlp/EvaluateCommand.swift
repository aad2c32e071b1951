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

    @Option(help: "A model bundle: a checkpoint folder (step-*), a run folder (its latest checkpoint) or an imported model.")
    var checkpoint: String

    @Option(help: "Dataset path, or scenes:SET:SPLIT (e.g. scenes:icr:test); zeroshot: a label set or scenes-shape / scenes-color.")
    var data: String

    @OptionGroup var dataset: DatasetOptions

    @Option(help: "Text kinds to use (comma-separated: \(TextKind.allCases.map(\.rawValue).joined(separator: ", "))).")
    var kinds: String?

    @Option(help: "A folder of the images' detector regions (<id>.features/boxes/classes.npy), for a single-stream model that reads regions instead of pixel patches.")
    var regions: String?

    @Option(help: "Re-rank each query's top k with the cross encoders (0: off).")
    var rerankTopK = 10

    @Option(help: ArgumentHelp("Retrieval: also report the two-stage score cos + w·p for these w (comma-separated), and p alone.",
                               discussion: "The same top k and match probabilities serve every w. Default with --choose-rerank-weight: \(RetrievalEvaluation.defaultSweepWeights.map { String($0) }.joined(separator: ","))."))
    var rerankWeights: String?

    @Flag(help: "Retrieval: store the swept w with the best two-stage R@M as the bundle's rerank_weight (run it on a validation split, not the test split).")
    var chooseRerankWeight = false

    @Option(help: "Zero-shot: class names in label order, comma-separated.")
    var classes: String?

    @Option(help: "Zero-shot template language: \(PromptTemplates.languages.joined(separator: " or ")).")
    var language = "en"

    @Option(help: "Built-in corpus size (items) for scenes: data.")
    var scenesSize = 1000

    @Option(help: "Seed of the built-in corpus for scenes: data; scenes-shape / scenes-color use the next one.")
    var scenesSeed: UInt64 = 8

    @Option(help: "Token positions per text (default: the context length the model trained with, from its bundle).")
    var contextLength: Int?

    @Flag(help: "Print the metrics as one JSON object.")
    var json = false

    @OptionGroup var target: DeviceOption

    func validate() throws {
        if rerankTopK < 0 { throw ValidationError("--rerank-top-k must be 0 (off) or more") }
        if scenesSize < 10 { throw ValidationError("--scenes-size must be at least 10") }
        if let contextLength, contextLength < 2 { throw ValidationError("--context-length must leave room for the special tokens") }
        guard PromptTemplates.languages.contains(language.lowercased()) else {
            throw ValidationError("--language \(language): one of \(PromptTemplates.languages.joined(separator: ", "))")
        }
        _ = try textKinds(kinds)
        _ = try sweepWeights()
        if (rerankWeights != nil || chooseRerankWeight) && (task != .retrieval || rerankTopK == 0) {
            throw ValidationError("--rerank-weights and --choose-rerank-weight belong to retrieval with re-ranking (--rerank-top-k > 0)")
        }
        if task == .zeroshot {
            if !Self.scenesZeroShot.contains(data) && classes == nil {
                throw ValidationError("zeroshot on a dataset needs --classes NAME,NAME,… in label order")
            }
        } else {
            _ = try scenesPart(of: data)
        }
    }

    static let scenesZeroShot = ["scenes-shape", "scenes-color"]

    func run() throws {
        let bundle = try ModelBundle.open(checkpoint, device: target.device)
        let model = bundle.model
        let inputs = bundle.inputs.withContextLength(contextLength)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let output: Data
        switch task {
        case .retrieval:
            let set = try EvaluationSet.load(dataConfig(), inputs: inputs)
            let result = try withNoGrad {
                try RetrievalEvaluation.run(model, on: set, rerankTopK: rerankTopK, rerankWeight: bundle.preprocessing.rerankWeight ?? 1,
                                            rerankWeights: try sweepWeights())
            }
            output = try encoder.encode(result)
            if !json { printRetrieval(result, set: set) }
            if chooseRerankWeight { try store(result, in: bundle, set: set) }
        case .matching:
            let set = try EvaluationSet.load(dataConfig(), inputs: inputs, includeNegatives: true)
            let result = try withNoGrad { try MatchingEvaluation.run(model, on: set) }
            output = try encoder.encode(result)
            if !json {
                print(String(format: "matching on %d pairs: AUC %.2f%%, accuracy %.2f%% (similarity)", result.pairs, result.auc * 100, result.accuracy))
                if let auc = result.matchHeadAUC, let accuracy = result.matchHeadAccuracy {
                    print(String(format: "match head: AUC %.2f%%, accuracy %.2f%%", auc * 100, accuracy))
                }
            }
        case .compositional:
            let set = try EvaluationSet.load(dataConfig(), inputs: inputs, includeNegatives: true)
            let result = try withNoGrad { try CompositionalEvaluation.run(model, on: set) }
            output = try encoder.encode(result)
            if !json {
                for (name, r) in [("dual encoder", result.dualEncoder), ("match head", result.matchHead)] {
                    guard let r else { continue }
                    print("\(name): " + r.accuracy.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.1f", $0.value))% (\(r.counts[$0.key] ?? 0))" }.joined(separator: ", ") + String(format: "; overall %.1f%%", r.overall))
                }
                if !result.indistinguishable.isEmpty {
                    print("left out, the same tokens after cutting to \(inputs.contextLength): " + result.indistinguishable.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
                }
            }
        case .zeroshot:
            let result = try zeroShot(model, inputs: inputs)
            output = try encoder.encode(result)
            if !json { print(String(format: "zero-shot on %d images, %d classes: top-1 %.2f%%, top-5 %.2f%%", result.images, result.classes, result.top1, result.top5)) }
        }
        if json { print(String(decoding: output, as: UTF8.self)) }
    }

    /// The data section evaluation reads; its tokenizer and context length are the bundle's.
    func dataConfig() throws -> TrainingDataDescription {
        var description: TrainingDataDescription
        if let part = try scenesPart(of: data) {
            description = .scenes(size: scenesSize, seed: scenesSeed, set: part.set, split: part.split)
            description.textKinds = try textKinds(kinds) ?? [.title]
        } else {
            description = .dataset(path: data, format: dataset.format, split: dataset.split)
            description.textKinds = try textKinds(kinds)
        }
        description.regions = regions
        return description
    }

    func zeroShot(_ model: PretrainingModel, inputs: InputPipeline) throws -> ZeroShotResult {
        let templates = try PromptTemplates.templates(language: language)
        let samples: [Sample], names: [String]
        if Self.scenesZeroShot.contains(data) {
            let attribute: ScenesZeroShot.Attribute = data == "scenes-shape" ? .shape : .color
            samples = ScenesZeroShot.samples(try ScenesCorpus(seed: scenesSeed + 1, imageSize: inputs.imageSize), attribute: attribute, count: 280)
            names = ScenesZeroShot.classNames(attribute, language: language)
        } else {
            guard let classes = try classNameList(classes) else { throw ValidationError("zeroshot on a dataset needs --classes NAME,NAME,… in label order") }
            names = classes
            samples = try DatasetFormat.openPart(data, format: dataset.format, part: dataset.split).reader.readAll()
        }
        let set = try EvaluationSet.make(name: data, samples: samples, inputs: inputs)
        return try ZeroShotEvaluation.run(model, on: set, classNames: names, templates: templates, inputs: inputs)
    }

    /// The weights to sweep: the list given, the default grid when choosing without one, else none.
    func sweepWeights() throws -> [Double] {
        guard let rerankWeights else { return chooseRerankWeight ? RetrievalEvaluation.defaultSweepWeights : [] }
        return try rerankWeights.split(separator: ",").map { item in
            let text = item.trimmingCharacters(in: .whitespaces)
            guard let w = Double(text), w.isFinite, w >= 0 else { throw ValidationError("--rerank-weights: \"\(text)\" is not a number ≥ 0") }
            return w
        }
    }

    /// Writes the best swept weight into the bundle's preprocessing.json (atomically).
    func store(_ result: RetrievalEvaluation, in bundle: ModelBundle, set: EvaluationSet) throws {
        guard let best = result.bestSweptWeight else { throw ValidationError("no weight was swept, so none can be chosen") }
        var preprocessing = bundle.preprocessing
        let previous = preprocessing.rerankWeight
        preprocessing.rerankWeight = best.weight
        try ModelBundle.writePreprocessing(preprocessing, tokenizerFile: bundle.folder.appendingPathComponent(preprocessing.text.vocabulary),
                                           into: bundle.folder)
        let message = String(format: "rerank_weight %@ (two-stage R@M %.2f on %@) stored in %@; it was %@",
                             RerankScore.number(best.weight), best.result.rmean, set.name, bundle.folder.appendingPathComponent(ModelBundle.preprocessingFile).path,
                             previous.map { RerankScore.number($0) } ?? "unset")
        FileHandle.standardError.write(Data((message + "\n").utf8))
    }

    func printRetrieval(_ result: RetrievalEvaluation, set: EvaluationSet) {
        func row(_ name: String, _ r: RetrievalResult, _ seconds: Double?) -> String {
            String(format: "%-28@ i→t %5.1f %5.1f %5.1f   t→i %5.1f %5.1f %5.1f   R@M %5.1f   %@", name as NSString,
                   r.i2t.r1, r.i2t.r5, r.i2t.r10, r.t2i.r1, r.t2i.r5, r.t2i.r10, r.rmean, seconds.map { String(format: "%.2f s", $0) } ?? "")
        }
        print("retrieval on \(set.name): \(set.imageCount) images, \(set.texts.count) texts (R@1 R@5 R@10, %)")
        print(row("ranking", result.ranking, result.rankingSeconds))
        if let reranked = result.reranked, let w = result.rerankWeight {
            print(row("two-stage (top \(result.rerankTopK))", reranked, result.rerankSeconds) + "   score = " + RerankScore.weighted(w).formula)
        }
        for point in result.sweep ?? [] {
            print(row("  top \(result.rerankTopK) by " + point.score.formula, point.result, nil))
        }
    }
}
