import Foundation
import Torch
import VLP
import VLPServer

/// The parsers of untrusted bytes, one fuzz target each. `run` hands the bytes to the parser
/// the way a command would meet them (a file on disk where the parser reads files) and
/// swallows thrown errors: refusing damaged input is the correct outcome, so only a crash, a
/// trap or a sanitizer report is a finding. The libFuzzer build (`vlp-fuzz`, Fuzz/fuzz.sh) and
/// the corpus replay test (`FuzzCorpusReplayTests`) call the same functions.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `SafeTensors.read`: header length, JSON header, shapes and offsets.
    case safetensors
    /// `PyTorchCheckpoint.read`: zip (libtorch's reader + the restricted unpickler) and legacy pickles.
    case pytorch
    /// `TarReader.next` over a whole archive: ustar, GNU long names, pax records.
    case tar
    /// `PretrainingRun(yaml:)`: the YAML reader and every checked key.
    case config
    /// `ZeroJSONL.Reader`: one sample per jsonl line (image files not checked).
    case jsonl
    /// `ChineseCLIP.Reader`: the bytes up to the first NUL are the image TSV (id, tab, base64),
    /// the rest the texts jsonl.
    case cnclip
    /// `ImageSize(header:)`, `ImageDecoder.probe` and `decode` (full and JPEG-scaled): the C codecs and EXIF.
    case image
    /// `Gzip.decompress` (zlib through `vlp_gunzip`: members, padding, the output limit).
    case gzip
    /// `IDXLabels.Reader`: MNIST-style image and label files. The first byte says how many of
    /// the next bytes (× 16) are the images file; the rest is the labels file.
    case idx
    /// `SearchParameters(query:)`: the search API's query string (`q`, `k`, `target`, `rerank`,
    /// percent escapes). The body of an image search goes to the image decoder (`image`).
    case query

    /// Parses `data`; returns normally whether the parser accepted or refused it.
    public func run(_ data: Data) {
        do {
            switch self {
            case .safetensors: _ = try SafeTensors.read(Self.scratchFile(data, suffix: "safetensors"))
            case .pytorch: _ = try PyTorchCheckpoint.read(Self.scratchFile(data, suffix: "pt"))
            case .tar: try Self.readTar(Self.scratchFile(data, suffix: "tar"))
            case .config: _ = try PretrainingRun(yaml: String(decoding: data, as: UTF8.self), source: "fuzz.yaml")
            case .jsonl: try Self.readJSONL(Self.scratchFile(data, suffix: "jsonl"))
            case .cnclip: try Self.readChineseCLIP(data)
            case .image: Self.readImage(data)
            case .gzip: _ = try Gzip.decompress([UInt8](data), maximumBytes: Self.fuzzMaxGzipBytes)
            case .idx: try Self.readIDX(data)
            case .query: _ = try SearchParameters(query: String(decoding: data, as: UTF8.self))
            }
        } catch {
            // A refusal: the expected answer to damaged bytes.
        }
    }

    /// The pixel limit the image target decodes under: the same code paths as the loader's
    /// limit, without letting one input allocate gigabytes under the fuzzer's memory limit.
    static let fuzzMaxPixels = 1 << 22

    /// The output limit the gzip target decompresses under (the same code path as the real
    /// limit, within the fuzzer's memory limit).
    static let fuzzMaxGzipBytes = 1 << 24

    static func readIDX(_ data: Data) throws {
        let split = min(data.count, 1 + 16 * Int(data.first ?? 0))
        let folder = try scratchFolder()
        let images = folder.appendingPathComponent("fuzz-images-idx3-ubyte"), labels = folder.appendingPathComponent("fuzz-labels-idx1-ubyte")
        try Data(data[data.startIndex.advanced(by: min(1, data.count))..<data.startIndex.advanced(by: split)]).write(to: images)
        try Data(data[data.startIndex.advanced(by: split)...]).write(to: labels)
        let reader = try IDXLabels.Reader(images: images.path, labels: labels.path)
        while try reader.next() != nil {}
    }

    static func readTar(_ url: URL) throws {
        let reader = try TarReader(path: url.path)
        while try reader.next() != nil {}
    }

    static func readJSONL(_ url: URL) throws {
        let reader = try ZeroJSONL.Reader(path: url.path, checksImageFiles: false)
        while try reader.next() != nil {}
    }

    static func readChineseCLIP(_ data: Data) throws {
        let split = data.firstIndex(of: 0) ?? data.endIndex
        let folder = try scratchFolder().path
        try Data(data[..<split]).write(to: URL(fileURLWithPath: ChineseCLIP.imagesPath(folder: folder, split: "fuzz")))
        try Data(data[min(split + 1, data.endIndex)...]).write(to: URL(fileURLWithPath: ChineseCLIP.textsPath(folder: folder, split: "fuzz")))
        let reader = try ChineseCLIP.Reader(folder: folder, split: "fuzz")
        while try reader.next() != nil {}
    }

    static func readImage(_ data: Data) {
        _ = ImageSize(header: data)
        let decoder = ImageDecoder(maxPixels: fuzzMaxPixels)
        _ = try? decoder.probe([UInt8](data))
        _ = try? decoder.decode(data)
        _ = try? decoder.decode(data, targetShortSide: 16)
    }

    /// One folder per process for the files the parsers read.
    static func scratchFolder() throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("vlp-fuzz-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// The bytes written to one file per process and target, overwritten by each input.
    static func scratchFile(_ data: Data, suffix: String) throws -> URL {
        let url = try scratchFolder().appendingPathComponent("input.\(suffix)")
        try data.write(to: url)
        return url
    }
}
