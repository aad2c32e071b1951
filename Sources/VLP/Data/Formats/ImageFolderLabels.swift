import Foundation
import Torch

/// An image–label set laid out as one folder per class (`ROOT/cat/001.jpg`, `ROOT/dog/…`), the
/// torchvision ImageFolder convention. Classes are the sub-folder names sorted; a sample's label
/// is its class's index and its id `CLASS/FILE-STEM`. Files that are not images are reported.
public enum ImageFolderLabels {
    public final class Reader: SampleReader {
        public let root: String
        public let classNames: [String]
        public private(set) var skipped: [SkippedRecord] = []
        private var entries: [(path: String, id: String, label: Int)] = []
        private var index = 0

        public init(root: String) throws {
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: root, isDirectory: &isFolder), isFolder.boolValue else {
                throw DatasetError.fileNotFound(root)
            }
            self.root = root
            let manager = FileManager.default
            let names: [String]
            do { names = try manager.contentsOfDirectory(atPath: root) } catch {
                throw DatasetError.unreadable(root, reason: error.localizedDescription)
            }
            classNames = names.filter { name in
                var isSub: ObjCBool = false
                return !name.hasPrefix(".") && manager.fileExists(atPath: root + "/" + name, isDirectory: &isSub) && isSub.boolValue
            }.sorted()
            for (label, name) in classNames.enumerated() {
                let folder = root + "/" + name
                let files = try DatasetFormat.visibleNames(in: folder)
                for file in files {
                    let ext = (file as NSString).pathExtension.lowercased()
                    guard ImageContainer.imageExtensions.contains(ext) else {
                        skipped.append(SkippedRecord(file: folder + "/" + file, line: nil, reason: "not an image file name"))
                        continue
                    }
                    entries.append((folder + "/" + file, name + "/" + (file as NSString).deletingPathExtension, label))
                }
            }
            var ids = DuplicateIDFilter()
            entries = entries.filter { entry in
                if ids.admit(entry.id) { return true }
                skipped.append(SkippedRecord(file: entry.path, line: nil, reason: "duplicate id \(entry.id)"))
                return false
            }
        }

        public func next() throws -> Sample? {
            guard index < entries.count else { return nil }
            defer { index += 1 }
            let entry = entries[index]
            return Sample(id: entry.id, image: .file(entry.path), texts: [], label: entry.label)
        }
    }

    /// Writes `ROOT/CLASS/ID.EXT` for samples with a label; `classNames[label]` names the folder.
    public final class Writer: SampleWriter {
        public let root: String
        public let classNames: [String]
        private let encode: ((RGBImage) throws -> Data)?

        /// Two names that make the same folder (`T-shirt/top` and `T-shirt_top`: characters a
        /// folder name cannot hold become `_`) are an error naming both.
        public init(root: String, classNames: [String], encode: ((RGBImage) throws -> Data)? = nil) throws {
            var seen: [String: String] = [:]
            for name in classNames {
                let folder = SafeFileName.from(name)
                if let earlier = seen[folder] {
                    throw DatasetError.invalidArgument("classes \"\(earlier)\" and \"\(name)\" would share the folder \(folder)")
                }
                seen[folder] = name
            }
            self.root = root
            self.classNames = classNames
            self.encode = encode
        }

        public func write(_ sample: Sample) throws {
            guard let label = sample.label, classNames.indices.contains(label) else {
                throw DatasetError.invalidArgument("sample \(sample.id): label \(sample.label.map(String.init) ?? "none") names no class of \(classNames.count)")
            }
            let bytes = try sample.imageBytes(encode: encode)
            let stem = SafeFileName.from(sample.id.split(separator: "/").last.map(String.init) ?? sample.id)
            let ext = ImageContainer.sniff(bytes)?.fileExtension ?? "bin"
            try AtomicFile.write(bytes, to: root + "/" + SafeFileName.from(classNames[label]) + "/" + stem + "." + ext)
        }

        @discardableResult
        public func finish() throws -> [String] { [root] }
    }
}
