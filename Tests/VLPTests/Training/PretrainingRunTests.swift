import Foundation
import Torch
import XCTest
@testable import VLP

final class PretrainingRunTests: TorchTestCase {
    /// The Swift API the issue asks for: a run described in code trains.
    func testARunDescribedInSwiftTrains() throws {
        let root = try temporaryFolder("swift-run")
        defer { try? FileManager.default.removeItem(at: root) }
        let trainer = try Trainer(PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: .scenes(size: 800), steps: 20,
                                                 output: root.path))
        trainer.log = { _ in }
        let summary = try trainer.run()
        XCTAssertEqual(summary.steps, 20)
        XCTAssertEqual(summary.skippedSteps, 0)
        XCTAssertTrue(summary.lastLoss["loss"]?.isFinite ?? false, "\(summary.lastLoss)")
        XCTAssertEqual(TrainingCheckpoint.list(in: root.appendingPathComponent("checkpoints")).last?.step, 20)
    }

    /// Each default lives in the struct: a YAML file that gives only the required keys decodes
    /// to the run built in Swift from the same four values, and the derived values follow.
    func testYAMLDefaultsAreTheStructDefaults() throws {
        let decoded = try PretrainingRun(yaml: "model: r2d2-tiny\nrecipe: r2d2\ndata: {}\nsteps: 40\n")
        let built = PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: .scenes(), steps: 40)
        XCTAssertEqual(decoded, built)
        XCTAssertEqual(built.warmupSteps, 4)
        XCTAssertEqual(built.checkpointEvery, 10)
        XCTAssertEqual(built.outputFolder, "runs/r2d2-tiny")
        XCTAssertEqual(built.device, .cpu)
        XCTAssertEqual(built.stages[0].data.vocabularyFile, TokenizerKind.bertChinese.defaultFile)
        let dataset = try PretrainingRun(yaml: "model: r2d2-tiny\nrecipe: r2d2\ndata: {path: zero/train.jsonl}\nsteps: 4\n")
        XCTAssertEqual(dataset.stages[0].data, .dataset(path: "zero/train.jsonl"))
    }

    /// The encoder writes YAML that decodes to an equal run, over every section and source.
    func testYAMLRoundTripOverEverySection() throws {
        var scenes = TrainingDataDescription.scenes(size: 300, seed: 11, languages: ["en"], set: .icm, split: .valid)
        scenes.contextLength = 24
        scenes.textKinds = [.title, .query]
        scenes.maskRatio = 0.2
        scenes.tokenizer = .bertEnglish
        scenes.vocabulary = "/tmp/my vocab: v2.txt"
        scenes.augment = true
        scenes.imageResize = .squash
        scenes.includeNegatives = true
        scenes.rewrites = 4
        scenes.retrievedNegatives = 2
        scenes.regions = "/data/regions: detector"
        let prompted = TrainingDataDescription.labelledImages(
            path: "/data/fashion mnist", format: .idx, split: "t10k",
            prompts: PromptTemplates(byLanguage: ["zh": ["一张{}的照片。", "{}"], "en": ["a photo of a {}.", "#{}: 'quoted'"]]),
            classes: IDXLabels.fashionMNISTClasses)
        let custom = PretrainingRecipe(name: "mine", weights: [.gcpr: 1, .tgd: 0.5], enhancedTraining: false,
                                       hardNegatives: .init(weighting: .temperature, positives: .imageOrText, uniformFraction: 0.25))
        var run = PretrainingRun(
            model: .configuration(try ModelConfigurationRegistry.load("r2d2-tiny-dual")), recipe: .prd2, data: scenes, steps: 7,
            batchSize: 16, gradientAccumulation: 3,
            optimizer: .init(learningRate: 3e-4, weightDecay: 0.1, betas: (0.8, 0.95), eps: 1e-8, clipNorm: 0),
            schedule: .init(shape: .linear, warmupSteps: 3, minimumLearningRate: 1e-6), seed: 42, output: "/tmp/out dir/run",
            checkpoints: .init(every: 5, keep: 3), logEvery: 2,
            evaluation: .init(every: 4, data: .dataset(path: "/data/cn clip", format: .cnclip, split: "valid", languages: ["zh"])),
            workers: 3, maxBadSteps: 7, distillation: .init(queue: 128, momentum: 0.99, patchMaskRatio: 0.4, alpha: 0.3, alphaRampSteps: 50),
            initFrom: "runs/old", device: .cuda(1), lock: [.image, .text])
        run.stages.append(TrainingStage(name: "prompts", steps: 5, recipe: custom, data: prompted))
        run.stages.append(TrainingStage(name: "web", steps: 2, recipe: .align,
                                        data: .dataset(path: "shards/{000..009}.tar", format: .webdataset)))
        let yaml = try run.yaml()
        XCTAssertEqual(try PretrainingRun(yaml: yaml, source: "written.yaml"), run, yaml)

        // A single-stage run writes recipe/data/steps at the top, a named model as its name.
        let simple = PretrainingRun(model: .named("r2d2-tiny"), recipe: .r2d2, data: .scenes(size: 800), steps: 20)
        let simpleYAML = try simple.yaml()
        XCTAssertTrue(simpleYAML.hasPrefix("model: r2d2-tiny\nrecipe: r2d2\n"), simpleYAML)
        XCTAssertEqual(try PretrainingRun(yaml: simpleYAML), simple)
        // A model file keeps its path (spaces and all).
        let folder = try temporaryFolder("a b")
        defer { try? FileManager.default.removeItem(at: folder) }
        let path = folder.appendingPathComponent("config.json").path
        try JSONEncoder().encode(try ModelConfigurationRegistry.load("r2d2-tiny-dual")).write(to: URL(fileURLWithPath: path))
        let file = PretrainingRun(model: .file(path), recipe: .align, data: .scenes(), steps: 1)
        let fileYAML = try file.yaml()
        XCTAssertTrue(fileYAML.contains("model: \(path)"), fileYAML)
        XCTAssertEqual(try PretrainingRun(yaml: fileYAML), file)
    }

    /// TgD's α rises linearly over `alpha_ramp_steps` (ALBEF's first-epoch ramp), then stays.
    func testDistillationAlphaRamps() throws {
        let ramped = PretrainingRun.Distillation(alpha: 0.4, alphaRampSteps: 4)
        for (step, expected) in [0.1, 0.2, 0.3, 0.4, 0.4, 0.4].enumerated() {
            XCTAssertEqual(ramped.alpha(atStep: step), expected, accuracy: 1e-12)
        }
        XCTAssertEqual(PretrainingRun.Distillation(alpha: 0.4).alpha(atStep: 0), 0.4)
        let run = try PretrainingRun(yaml: "model: r2d2-tiny-dual\nrecipe: prd2\nsteps: 2\ndata: {}\ndistillation: {alpha: 0.5, alpha_ramp_steps: 10}\n")
        XCTAssertEqual(run.distillation.alpha(atStep: 4), 0.25)
        XCTAssertThrowsError(try PretrainingRun(yaml: "model: r2d2-tiny-dual\nrecipe: prd2\nsteps: 2\ndata: {}\ndistillation: {alpha: 1.5}\n"))
    }

    /// The shipped configs survive a write and a read.
    func testShippedConfigsRoundTrip() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../../configs").standardized
        for file in try FileManager.default.contentsOfDirectory(atPath: folder.path) where file.hasSuffix(".yaml") {
            let run = try PretrainingRun.load(contentsOf: folder.appendingPathComponent(file))
            XCTAssertEqual(try PretrainingRun(yaml: run.yaml()), run, file)
        }
    }

    func testNewKeysNameTheirAllowedValues() throws {
        func error(_ yaml: String) -> String {
            do { _ = try PretrainingRun(yaml: yaml, source: "run.yaml"); return "no error" } catch { return "\(error)" }
        }
        let base = "model: r2d2-tiny-dual\nrecipe: prd2\nsteps: 2\n"
        let device = error(base + "data: {}\ndevice: gpu\n")
        XCTAssertTrue(device.contains("device (line 5)") && device.contains("\"gpu\"") && device.contains("cpu, cuda, cuda:N"), device)
        let retrieved = error(base + "data: {path: /data/zero, retrieved_negatives: 2}\n")
        XCTAssertTrue(retrieved.contains("retrieved_negatives") && retrieved.contains("scenes source only"), retrieved)
        let lock = error(base + "data: {}\nlock: [image, txt]\n")
        XCTAssertTrue(lock.contains("lock") && lock.contains("\"txt\"") && lock.contains("image, text"), lock)
        let tokenizer = error(base + "data: {tokenizer: bert-fr}\n")
        XCTAssertTrue(tokenizer.contains("data.tokenizer") && tokenizer.contains("bert-zh, bert-en, clip"), tokenizer)
        let kinds = error(base + "data: {text_kinds: [title, tittle]}\n")
        XCTAssertTrue(kinds.contains("data.text_kinds") && kinds.contains("\"tittle\"") && kinds.contains("class_prompt"), kinds)
        let format = error(base + "data: {path: x, prompts: {en: [\"a {}\"]}, format: jsonl}\n")
        XCTAssertTrue(format.contains("data.format") && format.contains("idx, imagefolder"), format)
        let template = error(base + "data: {path: x, prompts: {en: [\"a photo\"]}}\n")
        XCTAssertTrue(template.contains("data.prompts") && template.contains("\"a photo\""), template)
        let classes = error(base + "data: {path: x, prompts: {en: [\"a {}\"], zh: [\"{}\"]}, classes: {en: [a, b]}}\n")
        XCTAssertTrue(classes.contains("data.classes") && classes.contains("zh"), classes)
        let named = error(base + "data: {path: x, prompts: {en: [\"a {}\"]}, classes: mnist}\n")
        XCTAssertTrue(named.contains("data.classes") && named.contains("fashion-mnist"), named)
        let scenesPath = error(base + "data: {source: scenes, path: x}\n")
        XCTAssertTrue(scenesPath.contains("unknown key \"data.path\""), scenesPath)
        let source = error(base + "data: {source: web}\n")
        XCTAssertTrue(source.contains("data.source") && source.contains("scenes, dataset, labelled_images"), source)
        let r2d2 = "model: r2d2-tiny\nsteps: 2\ndata: {}\n"
        let weighting = error(r2d2 + "recipe: {base: r2d2, hard_negatives: {weighting: sharp}}\n")
        XCTAssertTrue(weighting.contains("recipe.hard_negatives.weighting") && weighting.contains("cosine, temperature"), weighting)
        let positives = error(r2d2 + "recipe: {base: r2d2, hard_negatives: {positives: text}}\n")
        XCTAssertTrue(positives.contains("recipe.hard_negatives.positives") && positives.contains("image, image_or_text"), positives)
        let key = error(r2d2 + "recipe: {base: r2d2, hard_negatives: {tau: 1}}\n")
        XCTAssertTrue(key.contains("recipe.hard_negatives.tau"), key)
        let parsed = try PretrainingRun(yaml: r2d2 + "recipe: {base: r2d2, hard_negatives: {weighting: temperature}}\n")
        XCTAssertEqual(parsed.stages[0].recipe.hardNegatives, HardNegativeSampling(weighting: .temperature, positives: .image))
        XCTAssertEqual(parsed.stages[0].recipe.weights, PretrainingRecipe.r2d2.weights)
    }

    /// A labelled image set with `prompts:` trains on captions made from the templates.
    func testPromptedLabelledImagesGiveTemplateCaptions() throws {
        let folder = try makeDataTestFolder()
        let writer = IDXLabels.Writer(images: folder + "/train-images-idx3-ubyte", labels: folder + "/train-labels-idx1-ubyte")
        for i in 0..<12 {
            try writer.write(Sample(id: "i\(i)", image: .pixels(dataTestImage(seed: i)), texts: [], label: i % 3))
        }
        _ = try writer.finish()
        let yaml = """
        model: r2d2-tiny-dual
        recipe: align
        data:
          path: \(folder)
          format: idx
          split: train
          prompts: {zh: ["一张{}的照片。"], en: ["a photo of a {}.", "a {} on a plain background."]}
          classes: {zh: [猫, 狗, 鸟], en: [cat, dog, bird]}
          context_length: 16
        steps: 2
        batch_size: 4
        workers: 1
        output: \(folder)/run
        """
        let run = try PretrainingRun(yaml: yaml, source: "prompted.yaml")
        let data = run.stages[0].data
        let source = try TrainingData.source(data, imageSize: 32)
        let samples = try source.open(source.units[0]).readAll()
        XCTAssertEqual(samples.count, 12)
        XCTAssertEqual(samples[4].label, 1)
        XCTAssertEqual(samples[4].texts, [SampleText("a photo of a dog.", kind: .classPrompt, language: "en"),
                                          SampleText("a dog on a plain background.", kind: .classPrompt, language: "en"),
                                          SampleText("一张狗的照片。", kind: .classPrompt, language: "zh")])
        // And a run trains on them.
        let trainer = try Trainer(run)
        trainer.log = { _ in }
        XCTAssertEqual(try trainer.run().steps, 2)

        // Without class names, numbered labels are an error that says what to add.
        var unnamed = data
        if case .labelledImages(let path, let format, let split, let prompts, _) = data.source {
            unnamed.source = .labelledImages(path: path, format: format, split: split, prompts: prompts, classes: nil)
        }
        XCTAssertThrowsError(try TrainingData.source(unnamed, imageSize: 32)) { error in
            XCTAssertTrue("\(error)".contains("data.classes") && "\(error)".contains("fashion-mnist"), "\(error)")
        }
    }

    /// Fashion-MNIST from Debian's package, named classes and the evaluation templates.
    func testFashionMNISTAsPromptedData() throws {
        let folder = IDXLabels.fashionMNISTFolder
        try XCTSkipUnless(FileManager.default.fileExists(atPath: IDXLabels.fashionMNISTFiles(split: "t10k").images),
                          "dataset-fashion-mnist is not installed (scripts/setup-system.sh installs it)")
        let run = try PretrainingRun(yaml: """
            model: r2d2-tiny-dual
            recipe: align
            data: {path: \(folder), split: t10k, prompts: {en: ["a photo of a {}."], zh: ["一张{}的照片。"]}, classes: fashion-mnist}
            steps: 1
            """)
        let source = try TrainingData.source(run.stages[0].data, imageSize: 32)
        let reader = try source.open(source.units[0])
        let first = try XCTUnwrap(reader.next())
        XCTAssertEqual(first.texts.map(\.text), ["a photo of a ankle boot.", "一张短靴的照片。"])
    }

    /// LiT: a locked tower's parameters do not move; the other tower's do.
    func testLockedTowerStaysWhileTheOtherTrains() throws {
        let root = try temporaryFolder("lock")
        defer { try? FileManager.default.removeItem(at: root) }
        var data = TrainingDataDescription.scenes(size: 120, seed: 3)
        data.contextLength = 16
        let trainer = try Trainer(PretrainingRun(model: .named("r2d2-tiny-dual"), recipe: .prd2, data: data, steps: 3, batchSize: 8,
                                                 optimizer: .init(learningRate: 1e-2), output: root.path, workers: 1, lock: [.image]))
        trainer.log = { _ in }
        let towers = try XCTUnwrap(trainer.model.towers)
        func snapshot(_ module: Module) throws -> [String: [Float]] {
            Dictionary(uniqueKeysWithValues: try module.namedParameters().map { ($0.name, try $0.tensor.toArray(Float.self)) })
        }
        let image = try snapshot(towers.imageEncoder), text = try snapshot(towers.textEncoder)
        XCTAssertTrue(towers.imageEncoder.parameters().allSatisfy { !$0.requiresGrad })
        XCTAssertEqual(trainer.model.module.parameterCount(trainableOnly: true),
                       trainer.model.module.parameterCount() - towers.imageEncoder.parameterCount())
        _ = try trainer.run()
        XCTAssertEqual(try snapshot(towers.imageEncoder), image)
        let after = try snapshot(towers.textEncoder)
        XCTAssertTrue(text.contains { after[$0.key] != $0.value }, "the text tower did not train")

        // A model without two towers cannot lock one.
        let singleStream = PretrainingRun(model: .named("imagebert-tiny"), recipe: PretrainingRecipe(name: "itm", weights: [.itm: 1]),
                                          data: data, steps: 1, lock: [.text])
        XCTAssertThrowsError(try Trainer(singleStream)) { error in
            XCTAssertTrue("\(error)".contains("lock: [text]") && "\(error)".contains("single_stream"), "\(error)")
        }
    }
}
