import Foundation
import VLP

/// The images an index is built from: a folder of image files (any depth; the id is the path
/// inside the folder) or one part of a dataset in any format `vlp data` reads (the id is the
/// sample id, and the sample's positive texts come along to show beside the image).
public struct IndexSource {
    /// One image to embed.
    public struct Item {
        public var id: String
        public var image: ImagePayload
        public var texts: [String]
    }

    public let path: String
    private let next: () throws -> Item?
    private let readerSkips: () -> [SkippedRecord]

    /// Records the reader itself left out (bad lines, samples without images).
    public var skipped: [SkippedRecord] { readerSkips() }

    /// Opens `path`: an image folder when it is a folder with no dataset files in it, else a
    /// dataset (`format` nil: detected; `split`: the part of a dataset holding several).
    public static func open(_ path: String, format: DatasetFormat? = nil, split: String? = nil) throws -> IndexSource {
        let reader: SampleReader
        do {
            reader = try DatasetFormat.openPart(path, format: format, part: split).reader
        } catch DatasetError.unknownFormat(let unknown) where format == nil {
            // No dataset files in it: a folder is taken as a folder of images.
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder), isFolder.boolValue else {
                throw DatasetError.unknownFormat(unknown)
            }
            return try imageFolder(path)
        }
        return sampleSource(name: path, next: reader.next, readerSkips: { reader.skipped })
    }

    /// Samples already in memory (a built-in corpus, a filtered list), under a `name` for reports.
    public static func samples(_ samples: [Sample], name: String) -> IndexSource {
        var iterator = samples.makeIterator()
        return sampleSource(name: name, next: { iterator.next() }, readerSkips: { [] })
    }

    /// Items from samples: each sample's image with its positive texts; a sample without an
    /// image is a skip.
    private static func sampleSource(name: String, next: @escaping () throws -> Sample?,
                                     readerSkips: @escaping () -> [SkippedRecord]) -> IndexSource {
        var missing: [SkippedRecord] = []
        return IndexSource(path: name, next: {
            while let sample = try next() {
                guard let image = sample.image else {
                    missing.append(SkippedRecord(file: name, line: nil, reason: "sample \(sample.id) has no image"))
                    continue
                }
                return Item(id: sample.id, image: image, texts: sample.positiveTexts.map(\.text))
            }
            return nil
        }, readerSkips: { readerSkips() + missing })
    }

    /// Every image file under `folder`, in path order.
    public static func imageFolder(_ folder: String) throws -> IndexSource {
        let root = URL(fileURLWithPath: folder).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey]) else {
            throw DatasetError.fileNotFound(folder)
        }
        var files: [String] = []
        for case let url as URL in walker where ImageContainer.imageExtensions.contains(url.pathExtension.lowercased()) {
            files.append(url.standardizedFileURL.path)
        }
        files.sort()
        var iterator = files.makeIterator()
        let prefix = root.path.hasSuffix("/") ? root.path : root.path + "/"
        return IndexSource(path: folder, next: {
            guard let file = iterator.next() else { return nil }
            let id = file.hasPrefix(prefix) ? String(file.dropFirst(prefix.count)) : file
            return Item(id: id, image: .file(file), texts: [])
        }, readerSkips: { [] })
    }

    /// The next image, nil at the end.
    public func nextItem() throws -> Item? { try next() }
}
