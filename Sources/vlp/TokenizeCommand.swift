import ArgumentParser
import Foundation
import VLP

/// `vlp tokenize`: prints, for each text, one JSON object with its ids and tokens (special
/// tokens included, no truncation or padding).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize texts with the BERT (Chinese / English) or CLIP tokenizer; one JSON line per text.")

    @Option(help: "Tokenizer: \(TokenizerKind.allowedNames).")
    var tokenizer: TokenizerKind

    @Option(help: "Vocabulary (BERT vocab.txt) or merges (CLIP .txt.gz) file; default under ./assets.")
    var vocab: String?

    @Option(help: "Read texts from this file, one a line.")
    var file: String?

    @Argument(help: "Texts to tokenize.")
    var texts: [String] = []

    func validate() throws {
        if file == nil && texts.isEmpty { throw ValidationError("give texts or --file") }
        if file != nil && !texts.isEmpty { throw ValidationError("give either texts or --file, not both") }
    }

    func run() throws {
        // The default is relative to the current directory; errors name the absolute path.
        let path = vocab ?? URL(fileURLWithPath: tokenizer.defaultFile).path
        let chosen = try tokenizer.load(file: path)
        var inputs = texts
        if let file {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            inputs = String(decoding: data, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                .map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
            if inputs.last == "" { inputs.removeLast() }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        func json<T: Encodable>(_ value: T) throws -> String { String(decoding: try encoder.encode(value), as: UTF8.self) }
        for text in inputs {
            let ids = try chosen.encode(text, maxLength: nil, paddedTo: nil).ids
            // Fields in a fixed order: text, ids, tokens.
            print("{\"text\":\(try json(text)),\"ids\":\(try json(ids)),\"tokens\":\(try json(try chosen.tokens(for: ids)))}")
        }
    }
}
