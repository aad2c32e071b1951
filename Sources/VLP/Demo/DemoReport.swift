import Foundation
import Torch

/// `report.html` of `vlp demo`: loss and learning-rate curves, metric tables for R2D2 and PRD2,
/// and R2D2's entity attention maps on test images.
enum DemoReport {
    /// `inputs`: how the models' inputs were prepared (the attention maps tokenize captions with it).
    static func write(summary: DemoSummary, models: [String: PretrainingModel], retrievalSet: EvaluationSet, inputs: InputPipeline,
                      output: URL) throws {
        var report = HTMLReport(title: "swift-vlp demo — R2D2-tiny vs PRD2 on the Scenes corpus (中文 + English)")
        report.addParagraph("Both models share the same towers (text BERT and ViT of r2d2-tiny), data, steps and batch. R2D2 adds the two cross encoders trained with FGR (one more negative per image: a one-aspect rewrite of its caption or a TF-IDF-retrieved caption of another image) and MLM; PRD2 is the dual encoder trained with GCPR and two-way distillation only. Test sets are generated from a different seed than the pretraining corpus.")
        report.addKeyValues("Run", [
            ("pretraining images", "\(summary.pretrainingPairs) (each with Chinese and English titles, contents, queries and paraphrases)"),
            ("steps × batch", "\(summary.steps) × \(summary.batchSize) per model"),
            ("wall time", String(format: "%.0f s", summary.seconds)),
            ("peak resident memory", String(format: "%.0f MiB", summary.peakResidentMiB)),
        ])

        report.addHeading("Training curves")
        var loss: [ReportSeries] = [], gcpr: [ReportSeries] = [], rates: [ReportSeries] = []
        for key in ["r2d2", "prd2"] {
            let records = (try? MetricsLog.read(output.appendingPathComponent(key).appendingPathComponent("metrics.jsonl"))) ?? []
            func series(_ term: String) -> ReportSeries {
                ReportSeries(name: key.uppercased(), points: records.compactMap { r in
                    guard let step = r["step"] as? Int, let value = r[term] as? Double else { return nil }
                    return (Double(step), value)
                })
            }
            loss.append(series("loss")); gcpr.append(series("gcpr")); rates.append(series("lr"))
        }
        report.add(LineChart(title: "Total loss (weighted sum of the recipe's terms)", xLabel: "step", yLabel: "loss", series: loss))
        report.add(LineChart(title: "GCPR (global contrastive) loss", xLabel: "step", yLabel: "loss", series: gcpr))
        report.add(LineChart(title: "Learning rate", xLabel: "step", yLabel: "lr", series: rates))

        report.addHeading("Results")
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var rows: [[String]] = []
        for key in ["r2d2", "prd2"] {
            guard let r = summary.models[key] else { continue }
            rows.append(["\(key.uppercased()) dual-encoder ranking", f(r.retrieval.i2t.r1), f(r.retrieval.i2t.r5), f(r.retrieval.i2t.r10),
                         f(r.retrieval.t2i.r1), f(r.retrieval.t2i.r5), f(r.retrieval.t2i.r10), f(r.retrieval.rmean)])
            if key == "r2d2" {
                let t = r.retrievalReranked
                rows.append(["R2D2 two-stage (top-10 re-ranked)", f(t.i2t.r1), f(t.i2t.r5), f(t.i2t.r10), f(t.t2i.r1), f(t.t2i.r5), f(t.t2i.r10), f(t.rmean)])
            }
        }
        report.add(ReportTable(title: "Retrieval on the Scenes ICR test split (titles, zh + en), %",
                               columns: ["model", "i→t R@1", "R@5", "R@10", "t→i R@1", "R@5", "R@10", "R@M"], rows: rows))
        let zeroKeys = (summary.models["r2d2"]?.zeroshot.keys.sorted()) ?? []
        report.add(ReportTable(title: "Matching AUC (ICM test) and zero-shot top-1 (single-object scenes), %",
                               columns: ["model", "matching AUC (cosine)", "matching AUC (match heads)"] + zeroKeys.map { "zero-shot \($0)" } + ["zero-shot mean"],
                               rows: ["r2d2", "prd2"].compactMap { key in
                                   summary.models[key].map { r in
                                       [key.uppercased(), f(r.matchingAUC), r.matchingAUCHeads.map(f) ?? "—"] + zeroKeys.map { f(r.zeroshot[$0]?.top1 ?? .nan) } + [f(r.zeroshotTop1)]
                                   }
                               }))
        let kinds = RewriteKind.allCases.map(\.rawValue)
        var compositionalRows: [[String]] = []
        for key in ["r2d2", "prd2"] {
            guard let detail = summary.models[key]?.compositionalDetail else { continue }
            for (name, result) in [("dual encoder", detail.dualEncoder), ("cross encoders", detail.matchHead)] {
                guard let result else { continue }
                compositionalRows.append(["\(key.uppercased()) \(name)"] + kinds.map { result.accuracy[$0].map(f) ?? "—" } + [f(result.overall)])
            }
        }
        report.add(ReportTable(title: "Compositional accuracy: true title scored above its rewritten hard negative, %",
                               columns: ["model"] + kinds + ["overall"], rows: compositionalRows))
        if let left = summary.models["r2d2"]?.compositionalDetail.indistinguishable, !left.isEmpty {
            report.addParagraph("Left out: pairs whose two titles are the same tokens once cut to the context length (the rewrite falls past the cut), "
                                + left.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", ") + ".")
        }

        if let r2d2 = models["r2d2"], let tower = r2d2.towers?.imageEncoder, r2d2.pairScorer != nil {
            report.addHeading("Entity attention maps (R2D2 text-attends-image cross encoder)")
            report.addParagraph("For an entity phrase of a test caption, the last cross-attention layer's weights of the phrase's tokens over the image patches (averaged over heads and tokens), drawn over the image.")
            let grid = tower.patchGrid(height: tower.imageSize, width: tower.imageSize)
            var shown = 0
            for image in 0..<retrievalSet.imageCount where shown < 4 {
                guard let (caption, entity) = entityCaption(retrievalSet, image: image, language: shown % 2 == 0 ? "en" : "zh") else { continue }
                let weights = try EntityAttentionMap.weights(r2d2, image: retrievalSet.images[image], caption: caption, entity: entity,
                                                             inputs: inputs)
                try report.add(AttentionHeatmap(image: retrievalSet.rawImages[image], weights: weights, gridHeight: grid.rows, gridWidth: grid.columns,
                                                caption: caption, entity: entity))
                shown += 1
            }
        }
        try report.write(to: output.appendingPathComponent("report.html"))
    }

    /// A caption of `image` in `language` and the phrase naming its first object ("red circle", "圆形").
    static func entityCaption(_ set: EvaluationSet, image: Int, language: String) -> (String, String)? {
        guard let j = set.texts.indices.first(where: { set.textImage[$0] == image && set.textLanguages[$0] == language }) else { return nil }
        let caption = set.texts[j]
        let candidates: [String]
        if language == "zh" {
            candidates = SceneShape.allCases.map(SceneCaptioner.Chinese.shape)
        } else {
            candidates = SceneColor.allCases.flatMap { color in
                SceneShape.allCases.flatMap { shape in [true, false].map { "\(color.rawValue) \(SceneCaptioner.English.shape(shape, plural: $0))" } }
            }
        }
        // The phrase that appears first in the caption.
        let found = candidates.compactMap { phrase in caption.range(of: phrase).map { (phrase, $0.lowerBound) } }.min { $0.1 < $1.1 }
        return found.map { (caption, $0.0) }
    }
}
