import Foundation

/// The dataset formats the tools read and write, and how a path on disk is opened as a list of
/// named parts (splits, shard groups), by a given format or by looking at what is there.
public enum DatasetFormat: String, CaseIterable, Sendable {
    /// R2D2 / Zero jsonl (`ZeroJSONL`).
    case jsonl
    /// Chinese-CLIP `{split}_imgs.tsv` + `{split}_texts.jsonl` (`ChineseCLIP`).
    case cnclip
    /// WebDataset tar shards (`WebDataset`).
    case webdataset
    /// Flickr30k-CNA style `IMAGE#N<TAB>caption` with an image folder (`FlickrCaptions`).
    case flickr
    /// One folder per class (`ImageFolderLabels`).
    case imagefolder
    /// MNIST-style idx3/idx1 files (`IDXLabels`).
    case idx

    /// One readable part of a dataset: a name (`train`, `pretrain/valid`, `shards`) and its reader.
    public struct Part {
        public var name: String
        public var reader: SampleReader
    }

    /// Options some formats need.
    public struct Options: Sendable {
        /// Flickr: the image folder; default `images` beside the caption file.
        public var imageFolder: String?
        /// jsonl: the folder `image_path` is relative to; default the jsonl's folder.
        public var imageRoot: String?
        public init(imageFolder: String? = nil, imageRoot: String? = nil) {
            self.imageFolder = imageFolder
            self.imageRoot = imageRoot
        }
    }

    /// Opens `path` as the parts of a dataset. With `format` nil the format is detected: a
    /// `.jsonl` file, a `.tar` file or brace pattern, an idx images file, or a folder holding
    /// such files (Chinese-CLIP pairs, jsonl files, tar shards, idx files), searched up to three
    /// levels deep; image folders and Flickr caption files need `format` given.
    public static func open(_ path: String, format: DatasetFormat? = nil, options: Options = Options()) throws -> [Part] {
        let manager = FileManager.default
        if path.contains("{") {
            guard format == nil || format == .webdataset else {
                throw DatasetError.invalidArgument("\(path): brace patterns name WebDataset shards")
            }
            return [Part(name: "shards", reader: try WebDataset.Reader(pattern: path))]
        }
        var isFolder: ObjCBool = false
        guard manager.fileExists(atPath: path, isDirectory: &isFolder) else { throw DatasetError.fileNotFound(path) }
        if !isFolder.boolValue {
            let name = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
            switch format ?? detectFile(path) {
            case .jsonl?:
                return [Part(name: name, reader: try ZeroJSONL.Reader(path: path, imageRoot: options.imageRoot))]
            case .webdataset?:
                return [Part(name: name, reader: try WebDataset.Reader(shards: [path]))]
            case .flickr?:
                let folder = options.imageFolder ?? URL(fileURLWithPath: path).deletingLastPathComponent().path + "/images"
                return [Part(name: name, reader: try FlickrCaptions.Reader(path: path, imageFolder: folder))]
            case .idx?:
                return [Part(name: name, reader: try IDXLabels.Reader(images: path, labels: idxLabelsPath(path)))]
            case .cnclip?, .imagefolder?:
                throw DatasetError.invalidArgument("\(path): the \(format!.rawValue) format is a folder")
            case nil:
                throw DatasetError.unknownFormat(path)
            }
        }
        if format == .imagefolder {
            return [Part(name: URL(fileURLWithPath: path).lastPathComponent, reader: try ImageFolderLabels.Reader(root: path))]
        }
        let parts = try folderParts(path, prefix: "", format: format, options: options, depth: 0)
        guard !parts.isEmpty else {
            throw format.map { DatasetError.invalidArgument("\(path): no \($0.rawValue) files found") } ?? DatasetError.unknownFormat(path)
        }
        return parts
    }

    /// The one part of `path` a run reads: the part named `part` (`valid`, `pretrain/test`), or
    /// the only part when `part` is nil. Several parts and no name is an error listing them,
    /// never a silent pick (a Chinese-CLIP folder holds train, valid and test).
    public static func openPart(_ path: String, format: DatasetFormat? = nil, part: String? = nil,
                                options: Options = Options()) throws -> Part {
        let parts = try open(path, format: format, options: options)
        let names = parts.map(\.name).joined(separator: ", ")
        if let part {
            guard let chosen = parts.first(where: { $0.name == part }) else {
                throw DatasetError.invalidArgument("\(path): no part named \(part); it holds \(names)")
            }
            return chosen
        }
        guard parts.count == 1, let only = parts.first else {
            throw DatasetError.invalidArgument("\(path) holds \(parts.count) parts (\(names)); choose one with split: in the config or --split")
        }
        return only
    }

    static func detectFile(_ path: String) -> DatasetFormat? {
        let name = URL(fileURLWithPath: path).lastPathComponent
        if name.hasSuffix(".jsonl") { return .jsonl }
        if name.hasSuffix(".tar") { return .webdataset }
        if name.contains("-idx3-ubyte") { return .idx }
        return nil
    }

    /// The visible (not dot-prefixed) names in `folder`, sorted; a folder that cannot be listed
    /// is an error naming it, not an empty dataset.
    static func visibleNames(in folder: String) throws -> [String] {
        do {
            return try FileManager.default.contentsOfDirectory(atPath: folder).filter { !$0.hasPrefix(".") }.sorted()
        } catch {
            throw DatasetError.unreadable(folder, reason: "cannot list the folder: \(error.localizedDescription)")
        }
    }

    static func idxLabelsPath(_ imagesPath: String) -> String {
        imagesPath.replacingOccurrences(of: "images-idx3-ubyte", with: "labels-idx1-ubyte")
    }

    private static func folderParts(_ folder: String, prefix: String, format: DatasetFormat?,
                                    options: Options, depth: Int) throws -> [Part] {
        let manager = FileManager.default
        let names = try visibleNames(in: folder)
        func isFile(_ name: String) -> Bool {
            var isFolder: ObjCBool = false
            return manager.fileExists(atPath: folder + "/" + name, isDirectory: &isFolder) && !isFolder.boolValue
        }
        let files = names.filter(isFile)
        var parts: [Part] = []
        if format == nil || format == .cnclip {
            for split in try ChineseCLIP.splits(in: folder) {
                parts.append(Part(name: prefix + split, reader: try ChineseCLIP.Reader(folder: folder, split: split)))
            }
        }
        if (format == nil || format == .jsonl) && parts.isEmpty {
            for file in files where file.hasSuffix(".jsonl") {
                parts.append(Part(name: prefix + String(file.dropLast(6)),
                                  reader: try ZeroJSONL.Reader(path: folder + "/" + file, imageRoot: options.imageRoot)))
            }
        }
        if (format == nil || format == .webdataset) && parts.isEmpty {
            let shards = files.filter { $0.hasSuffix(".tar") }.map { folder + "/" + $0 }
            if !shards.isEmpty {
                let name = prefix.isEmpty ? URL(fileURLWithPath: folder).lastPathComponent : String(prefix.dropLast())
                parts.append(Part(name: name, reader: try WebDataset.Reader(shards: shards)))
            }
        }
        if (format == nil || format == .idx) && parts.isEmpty {
            for file in files where file.contains("-images-idx3-ubyte") {
                let labels = idxLabelsPath(file)
                guard files.contains(labels) else { continue }
                parts.append(Part(name: prefix + (file.components(separatedBy: "-images-").first ?? file),
                                  reader: try IDXLabels.Reader(images: folder + "/" + file, labels: folder + "/" + labels)))
            }
        }
        if format == .flickr && parts.isEmpty {
            for file in files where file.hasSuffix(".txt") || file.hasSuffix(".token") {
                let images = options.imageFolder ?? folder + "/images"
                parts.append(Part(name: prefix + URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent,
                                  reader: try FlickrCaptions.Reader(path: folder + "/" + file, imageFolder: images)))
            }
        }
        // Subfolders are searched even when this folder holds parts: convert writes a part named
        // "a/web" beside one named "b", and both must read back.
        guard depth < 3 else { return parts }
        for name in names where !isFile(name) && name != "images" {
            parts += try folderParts(folder + "/" + name, prefix: prefix + name + "/", format: format,
                                     options: options, depth: depth + 1)
        }
        return parts
    }

    /// A writer of this format for the part `name` under `folder`:
    /// jsonl `folder/NAME.jsonl` (images in `folder/images/NAME/`), cnclip split NAME in `folder`,
    /// webdataset `folder/NAME/shard-*.tar`, flickr `folder/NAME.txt` (images in `folder/images`),
    /// imagefolder `folder/NAME/CLASS/…`, idx `folder/NAME-images-idx3-ubyte` + labels.
    public func writer(folder: String, part name: String, encode: ((RGBImage) throws -> Data)?,
                       classNames: [String] = [], samplesPerShard: Int = 1000) throws -> SampleWriter {
        let safe = name.split(separator: "/").map { SafeFileName.from(String($0)) }.joined(separator: "/")
        switch self {
        case .jsonl:
            return try ZeroJSONL.Writer(path: folder + "/" + safe + ".jsonl", imageFolder: "images/" + URL(fileURLWithPath: safe).lastPathComponent, encode: encode)
        case .cnclip:
            let url = URL(fileURLWithPath: folder + "/" + safe)
            return try ChineseCLIP.Writer(folder: url.deletingLastPathComponent().path, split: url.lastPathComponent, encode: encode)
        case .webdataset:
            return try WebDataset.Writer(folder: folder + "/" + safe, samplesPerShard: samplesPerShard, encode: encode)
        case .flickr:
            let url = URL(fileURLWithPath: folder + "/" + safe + ".txt")
            return try FlickrCaptions.Writer(path: url.path, imageFolder: url.deletingLastPathComponent().path + "/images", encode: encode)
        case .imagefolder:
            return try ImageFolderLabels.Writer(root: folder + "/" + safe, classNames: classNames, encode: encode)
        case .idx:
            return IDXLabels.Writer(images: folder + "/" + safe + "-images-idx3-ubyte", labels: folder + "/" + safe + "-labels-idx1-ubyte")
        }
    }
}
