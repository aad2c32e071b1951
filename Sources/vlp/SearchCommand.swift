import ArgumentParser
import Foundation
import VLPServer

/// `vlp search`: one query against an index from the command line (what `vlp serve` answers
/// over HTTP).
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search an index built by vlp index with a text or an image.",
        discussion: """
              vlp search --index photos.index "一只在草地上奔跑的狗"
              vlp search --index photos.index --image query.jpg -k 5 --json
              vlp search --index captions.index --image query.jpg --target texts
            """)

    @OptionGroup var opening: IndexOpeningOptions

    @Argument(help: "The text query.")
    var text: String?

    @Option(help: "Query by this image file instead of a text.")
    var image: String?

    @Option(help: "What to find: images, or texts (an index built with --texts).")
    var target: SearchIndex.Target = .images

    @Option(name: .customShort("k"), help: "Results to show.")
    var count = 10

    @Option(help: "Re-rank the top K image–text candidates with R2D2's cross encoders (text → images, image → texts).")
    var rerank = 0

    @Flag(help: "Print the results as JSON (as GET /api/search returns them).")
    var json = false

    func validate() throws {
        if (text == nil) == (image == nil) { throw ValidationError("give a text or --image, not both") }
        if count < 1 { throw ValidationError("-k must be at least 1") }
    }

    func run() throws {
        let engine = try opening.engine()
        let start = Date()
        let hits: [SearchIndex.Hit]
        if let image {
            guard let data = FileManager.default.contents(atPath: image) else { throw ValidationError("cannot read \(image)") }
            hits = try engine.search(image: [UInt8](data), count: count, target: target, rerank: rerank)
        } else {
            hits = try engine.search(text: text ?? "", count: count, target: target, rerank: rerank)
        }
        let response = SearchResponse(query: text, hits: hits, since: start)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.withoutEscapingSlashes, .sortedKeys]
            print(String(decoding: try encoder.encode(response), as: UTF8.self))
            return
        }
        for result in response.results {
            let file = engine.index.imageFile(of: engine.index.entries[result.position]).path
            let texts = result.text.map { "  " + $0 } ?? (result.texts.isEmpty ? "" : "  " + result.texts.prefix(2).joined(separator: " | "))
            print(String(format: "%3d  %.4f  ", result.rank, result.score) + "\(result.id)  \(file)\(texts)")
        }
    }
}

extension SearchIndex.Target: ExpressibleByArgument {}
