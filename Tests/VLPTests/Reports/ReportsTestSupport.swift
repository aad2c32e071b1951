import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
@testable import VLP

/// An element of a parsed XML document: name, attributes, text directly inside, children.
final class ParsedXMLElement {
    let name: String
    let attributes: [String: String]
    var text = ""
    var children: [ParsedXMLElement] = []

    init(name: String, attributes: [String: String]) {
        self.name = name
        self.attributes = attributes
    }

    /// This node and all below it, depth first.
    var all: [ParsedXMLElement] { [self] + children.flatMap(\.all) }

    /// The text of this node and all below it.
    var allText: String { text + children.map(\.allText).joined() }

    /// Parses `text` strictly; throws with the parser's message if it is not well-formed XML.
    static func parse(_ text: String) throws -> ParsedXMLElement {
        let delegate = TreeBuilder()
        let parser = XMLParser(data: Data(text.utf8))
        parser.delegate = delegate
        guard parser.parse(), let root = delegate.root else {
            throw NSError(domain: "XML", code: 1, userInfo: [NSLocalizedDescriptionKey:
                "not well-formed: \(parser.parserError.map { "\($0)" } ?? "no root") at line \(parser.lineNumber)"])
        }
        return root
    }

    private final class TreeBuilder: NSObject, XMLParserDelegate {
        var root: ParsedXMLElement?
        var stack: [ParsedXMLElement] = []

        func parser(_ parser: XMLParser, didStartElement elementName: String, namespaceURI: String?,
                    qualifiedName: String?, attributes: [String: String] = [:]) {
            let node = ParsedXMLElement(name: elementName, attributes: attributes)
            if let parent = stack.last { parent.children.append(node) } else { root = node }
            stack.append(node)
        }

        func parser(_ parser: XMLParser, didEndElement elementName: String, namespaceURI: String?, qualifiedName: String?) {
            stack.removeLast()
        }

        func parser(_ parser: XMLParser, foundCharacters string: String) {
            stack.last?.text += string
        }
    }
}

/// Pictures and reports shared by the report tests.
enum ReportFixtures {
    /// A 64×64 test picture: sky-blue background, a red square top-left, a green disc bottom-right,
    /// a yellow bar along the bottom — shapes whose places are known.
    static func shapesImage(size: Int = 64) -> RGBImage {
        var pixels = [UInt8](repeating: 0, count: size * size * 3)
        for y in 0..<size {
            for x in 0..<size {
                var c: (UInt8, UInt8, UInt8) = (170, 205, 235)
                if x >= size / 8 && x < size * 3 / 8 && y >= size / 8 && y < size * 3 / 8 { c = (220, 40, 40) }
                let dx = Double(x - size * 11 / 16), dy = Double(y - size * 9 / 16)
                if dx * dx + dy * dy < Double(size * size) / 49 { c = (40, 170, 70) }
                if y >= size * 7 / 8 { c = (240, 200, 40) }
                let i = (y * size + x) * 3
                pixels[i] = c.0; pixels[i + 1] = c.1; pixels[i + 2] = c.2
            }
        }
        return RGBImage(width: size, height: size, pixels: pixels)
    }

    /// The sample report used for a look in a browser: two loss curves, an evaluation curve, a
    /// results table, run facts and an attention map on `syntheticShapesImage`.
    static func sampleReport() throws -> HTMLReport {
        var report = HTMLReport(title: "R2D2 vs PRD2 — 预训练与评测报告")
        report.addParagraph("Tiny synthetic run on the built-in corpus: R2D2 (GCPR + FGR + MLM + ET + TwD) against the PRD2 baseline (GCPR + TwD only). 中文标题：图文检索。")
        report.addKeyValues("Run", [("corpus", "builtin-zh (2,000 pairs)"), ("steps", "1,200"), ("batch", "64"),
                                    ("device", "cpu"), ("checkpoint", "/tmp/vlp-run/checkpoints/step-1200.safetensors")])
        report.addHeading("Training loss")
        var r2d2: [Double] = [], prd2: [Double] = []
        for step in 0...1200 {
            let t = Double(step)
            r2d2.append(4.2 * exp(-t / 260) + 0.35 + 0.08 * sin(t / 7) * exp(-t / 900))
            prd2.append(4.0 * exp(-t / 400) + 0.62 + 0.07 * cos(t / 9) * exp(-t / 900))
        }
        prd2[500] = .nan   // a diverged step, skipped in the chart
        report.add(LineChart(title: "Pretraining loss (总损失)", xLabel: "step", yLabel: "loss",
                             series: [ReportSeries(name: "R2D2", values: r2d2), ReportSeries(name: "PRD2", values: prd2)]))
        report.add(LineChart(title: "Loss, log scale", xLabel: "step", yLabel: "loss",
                             series: [ReportSeries(name: "R2D2", values: r2d2), ReportSeries(name: "PRD2", values: prd2)],
                             logY: true))
        report.addHeading("Evaluation")
        let epochs = [1.0, 2, 3, 4, 5, 6]
        report.add(LineChart(title: "R@M on Flickr30k-CNA (validation)", xLabel: "epoch", yLabel: "R@M (%)", series: [
            ReportSeries(name: "R2D2", points: zip(epochs, [41.2, 55.0, 61.8, 65.3, 67.1, 68.0]).map { (x: $0, y: $1) }),
            ReportSeries(name: "PRD2", points: zip(epochs, [38.0, 49.5, 55.1, 58.2, 59.9, 60.4]).map { (x: $0, y: $1) }),
            ReportSeries(name: "w/o ET", points: zip(epochs, [40.1, 52.2, 58.7, 62.0, 63.9, 64.6]).map { (x: $0, y: $1) }),
        ]))
        report.add(ReportTable(title: "Image–text retrieval (ICR / IQR, %)", columns: ["model", "R@1", "R@5", "R@10", "R@M", "AUC (ICM)"], rows: [
            ["R2D2", "48.3", "75.9", "84.6", "69.6", "0.912"],
            ["PRD2", "41.0", "69.2", "79.8", "63.3", "0.874"],
            ["w/o ET", "45.7", "73.4", "82.9", "67.3", "0.901"],
            ["w/o TwD <&\"special\">", "44.9", "72.8", "82.0", "66.6", "—"],
        ]))
        report.addHeading("Entity attention")
        var weights = [Float](repeating: 0.02, count: 16)
        weights[0] = 0.7; weights[1] = 0.75; weights[4] = 0.8; weights[5] = 0.9; weights[2] = 0.2; weights[8] = 0.15   // the red square
        report.addParagraph("Patch attention of the entity's tokens over a 4×4 ViT grid.")
        try report.add(AttentionHeatmap(image: ReportFixtures.shapesImage(), weights: weights, gridHeight: 4, gridWidth: 4,
                                        caption: "一个红色的方块 next to a green disc", entity: "红色的方块"))
        var discWeights = [Float](repeating: 0.01, count: 16)
        discWeights[10] = 0.7; discWeights[11] = 0.5; discWeights[6] = 0.25; discWeights[14] = 0.3
        try report.add(AttentionHeatmap(image: ReportFixtures.shapesImage(), weights: discWeights, gridHeight: 4, gridWidth: 4,
                                        caption: "a red square next to a green disc", entity: "green disc"))
        return report
    }

    /// The values of every `src="…"` attribute in `html`.
    static func imageSources(in html: String) -> [String] {
        html.components(separatedBy: "src=\"").dropFirst().map { String($0.prefix { $0 != "\"" }) }
    }
}
