import ArgumentParser
import Foundation
import VLP

/// `vlp tokenize`: prints, for each text, one JSON object with its ids and tokens (special
/// tokens included, no truncation or padding).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Tokenize texts with the BERT (Chinese / English) or CLIP tokenizer; one JSON line per text.")

    enum Kind: String, ExpressibleByArgument, CaseIterable {
        case bertZh = "bert-zh", bertEn = "bert-en", clip

        var defaultVocabulary: String {
            switch self {
            case .bertZh: return "assets/cn-clip/vocab.txt"
            case .bertEn: return "assets/minilm/vocab.txt"
            case .clip: return "assets/open-clip/bpe_simple_vocab_16e6.txt.gz"
            }
        }
    }

    @Option(help: "Tokenizer: \(Kind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var tokenizer: Kind

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
        let path = vocab ?? URL(fileURLWithPath: tokenizer.defaultVocabulary).path
        let chosen: any TextTokenizer
        switch tokenizer {
        case .bertZh: chosen = try BertTokenizer.chineseCLIP(vocabularyFile: path)
        case .bertEn: chosen = try BertTokenizer.englishUncased(vocabularyFile: path)
        case .clip: chosen = try CLIPTokenizer(mergesFile: path)
        }
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
