import Foundation

/// WebDataset shards: tar files whose consecutive members sharing a key form one sample —
/// `KEY.jpg|jpeg|png|webp` (the image), `KEY.txt` (a caption), `KEY.json` (texts and metadata),
/// `KEY.cls` (an integer label). The key is the member path up to the first `.` of its file name.
///
/// The json this project writes: `{"id": "…", "texts": [{"text", "kind", "lang", "role"}…],
/// "label": 1}`; json from other tools is read for `caption` or `text` strings and `label`.
/// With a `texts` list, `KEY.txt` (which then repeats the first text) is not read again.
public enum WebDataset {
    /// Shard paths from a brace pattern (`data/shard-{000..099}.tar`) or a single path.
    public static func shards(matching pattern: String) throws -> [String] {
        do { return try BraceExpansion.expand(pattern) } catch let problem as BraceExpansion.Problem {
            throw DatasetError.invalidArgument(problem.description)
        }
    }

    /// Streams samples from shards in order, one tar member at a time.
    public final class Reader: SampleReader {
        public let shards: [String]
        public private(set) var skipped: [SkippedRecord] = []
        private var shardIndex = 0
        private var tar: TarReader?
        private var group: [TarMember] = []
        private var groupKey: String?
        private var seenKeys = DuplicateIDFilter()
        private var ids = DuplicateIDFilter()
        private var pending: [Sample] = []

        /// All shards must exist (checked here, so a typo fails before any work).
        public init(shards: [String]) throws {
            for shard in shards {
                var isFolder: ObjCBool = false
                guard FileManager.default.fileExists(atPath: shard, isDirectory: &isFolder), !isFolder.boolValue else {
                    throw DatasetError.fileNotFound(shard)
                }
            }
            self.shards = shards
        }

        public convenience init(pattern: String) throws {
            try self.init(shards: try WebDataset.shards(matching: pattern))
        }

        public func next() throws -> Sample? {
            while true {
                if !pending.isEmpty { return pending.removeFirst() }
                if tar == nil {
                    guard shardIndex < shards.count else { return nil }
                    tar = try TarReader(path: shards[shardIndex])
                    shardIndex += 1
                }
                guard let tar else { continue }
                if let member = try tar.next() {
                    let (key, _) = WebDataset.split(member.name)
                    if key != groupKey { flush(shard: tar.path) }
                    groupKey = key
                    group.append(member)
                    continue
                }
                // End of this shard (cleanly or at damage).
                if let damage = tar.damage {
                    let damagedKey = tar.damagedMemberName.map { WebDataset.split($0).key }
                    if let damagedKey, damagedKey != groupKey {
                        flush(shard: tar.path)                  // the group before the damage was complete
                    } else if let groupKey {
                        skipped.append(SkippedRecord(file: tar.path, line: group.first?.offset,
                                                     reason: "sample \(groupKey) incomplete: the shard is damaged after it"))
                        group.removeAll()
                        self.groupKey = nil
                    }
                    skipped.append(damage)
                } else {
                    flush(shard: tar.path)
                }
                self.tar = nil
            }
        }

        /// Turns the collected members into a sample (into `pending`) or a skip.
        private func flush(shard: String) {
            defer { group.removeAll(); groupKey = nil }
            guard let key = groupKey, let first = group.first else { return }
            func skip(_ reason: String) { skipped.append(SkippedRecord(file: shard, line: first.offset, reason: reason)) }
            guard !key.isEmpty else { skip("member \(first.name) has no key"); return }
            guard seenKeys.admit(key) else { skip("duplicate key \(key)"); return }
            var members: [String: Data] = [:]
            for member in group {
                let ext = WebDataset.split(member.name).extension
                guard members[ext] == nil else { skip("sample \(key): member \(member.name) appears twice"); return }
                members[ext] = member.data
            }
            switch WebDataset.sample(key: key, members: members) {
            case .success(let sample):
                guard ids.admit(sample.id) else { skip("duplicate id \(sample.id)"); return }
                pending.append(sample)
            case .failure(let problem):
                skip("sample \(key): \(problem.text)")
            }
        }
    }

    struct Problem: Error { var text: String }

    /// (key, extension) of a member path: the extension is everything after the first `.` of
    /// the file name, lowercased.
    static func split(_ name: String) -> (key: String, extension: String) {
        let slash = name.lastIndex(of: "/").map { name.index(after: $0) } ?? name.startIndex
        guard let dot = name[slash...].firstIndex(of: ".") else { return (name, "") }
        return (String(name[..<dot]), name[name.index(after: dot)...].lowercased())
    }

    static func sample(key: String, members: [String: Data]) -> Result<Sample, Problem> {
        let imageExtension = ["jpg", "jpeg", "png", "webp", "ppm"].first { members[$0] != nil }
        guard let imageExtension, let image = members[imageExtension] else {
            let names = members.keys.sorted().map { "\(key).\($0)" }.joined(separator: ", ")
            return .failure(Problem(text: "no image (members: \(names.isEmpty ? "none" : names))"))
        }
        guard !image.isEmpty else { return .failure(Problem(text: "empty image member")) }
        var id = key
        var texts: [SampleText] = []
        var label: Int?
        var jsonHasTexts = false
        if let json = members["json"] {
            let object: [String: Any]
            do { object = try SampleJSON.parseObject(json) } catch {
                return .failure(Problem(text: "\(key).json: \(SampleJSON.describe(error))"))
            }
            if let given = SampleJSON.identifier(object["id"]) { id = given }
            guard let parsedLabel = SampleJSON.label(object["label"]) else {
                return .failure(Problem(text: "\"label\" is not an integer"))
            }
            label = parsedLabel
            if let list = object["texts"] {
                guard let list = list as? [Any] else { return .failure(Problem(text: "\"texts\" is not a list")) }
                for item in list {
                    do { texts.append(try SampleJSON.text(item, defaultLanguage: object["lang"] as? String)) } catch {
                        return .failure(Problem(text: "\(error)"))
                    }
                }
                jsonHasTexts = true
            } else if let caption = (object["caption"] ?? object["text"]) as? String {
                texts.append(SampleText(caption, language: object["lang"] as? String))
                jsonHasTexts = true
            }
        }
        if !jsonHasTexts, let txt = members["txt"] {
            guard let caption = String(data: txt, encoding: .utf8) else {
                return .failure(Problem(text: "\(key).txt is not UTF-8"))
            }
            texts.append(SampleText(caption.trimmingCharacters(in: .newlines)))
        }
        if let cls = members["cls"] {
            guard let text = String(data: cls, encoding: .utf8),
                  let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines))
            else { return .failure(Problem(text: "\(key).cls is not an integer")) }
            label = value
        }
        let hadTexts = !texts.isEmpty
        texts.removeAll { $0.text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }
        if texts.isEmpty && label == nil {
            return .failure(Problem(text: hadTexts ? "empty text" : "no text (.txt or .json) and no label"))
        }
        return .success(Sample(id: id, image: .encoded(image), texts: texts, label: label))
    }

    /// The members of one sample as this project writes them, in order: `KEY.EXT` (the image,
    /// its extension sniffed from the bytes), `KEY.cls` (with a label), `KEY.json` (`id`, `texts`,
    /// `label`, and any `metadata` fields beside them), `KEY.txt` (the first positive text).
    public static func members(key: String, sample: Sample, imageBytes bytes: Data,
                               metadata: [String: Any] = [:]) throws -> [(name: String, data: Data)] {
        let ext = ImageContainer.sniff(bytes)?.fileExtension ?? "bin"
        var members: [(name: String, data: Data)] = [(key + "." + ext, bytes)]
        var object = metadata
        object["id"] = sample.id
        object["texts"] = sample.texts.map(SampleJSON.object)
        if let label = sample.label {
            object["label"] = label
            members.append((key + ".cls", Data("\(label)".utf8)))
        }
        members.append((key + ".json", try SampleJSON.line(object)))
        if let primary = sample.texts.first(where: { $0.role.isPositive }) ?? sample.texts.first {
            members.append((key + ".txt", Data(primary.text.utf8)))
        }
        return members
    }

    /// Writes samples into shards `PREFIX-000000.tar`, `PREFIX-000001.tar`, … in `folder`,
    /// `samplesPerShard` each. Each shard appears (atomically) once full or at `finish()`.
    public final class Writer: SampleWriter {
        public let folder: String
        public let prefix: String
        public let samplesPerShard: Int
        private let encode: ((RGBImage) throws -> Data)?
        private var tar: TarWriter?
        private var inShard = 0
        private var written: [String] = []
        private var keys = DuplicateIDFilter()

        public init(folder: String, prefix: String = "shard", samplesPerShard: Int = 1000,
                    encode: ((RGBImage) throws -> Data)? = nil) throws {
            guard samplesPerShard > 0 else { throw DatasetError.invalidArgument("samplesPerShard must be positive") }
            self.folder = folder
            self.prefix = prefix
            self.samplesPerShard = samplesPerShard
            self.encode = encode
        }

        /// The brace pattern naming the shards written so far (`folder/shard-{000000..000003}.tar`).
        public var pattern: String {
            let count = written.count
            if count <= 1 { return written.first ?? "" }
            return folder + "/\(prefix)-{\(Writer.number(0))..\(Writer.number(count - 1))}.tar"
        }

        static func number(_ index: Int) -> String {
            let digits = String(index)
            return String(repeating: "0", count: max(0, 6 - digits.count)) + digits
        }

        /// Member key for a sample id: no dots (the key ends at the first dot), no slashes.
        static func key(for id: String) -> String {
            SafeFileName.from(id).replacingOccurrences(of: ".", with: "_")
        }

        public func write(_ sample: Sample) throws {
            let bytes = try sample.imageBytes(encode: encode)
            var key = Writer.key(for: sample.id)
            if !keys.admit(key) {                  // two ids that sanitise alike
                var n = 1
                while !keys.admit("\(key)_\(n)") { n += 1 }
                key = "\(key)_\(n)"
            }
            if tar == nil {
                let path = folder + "/\(prefix)-\(Writer.number(written.count)).tar"
                tar = try TarWriter(path: path)
            }
            guard let tar else { return }
            for member in try WebDataset.members(key: key, sample: sample, imageBytes: bytes) {
                try tar.add(name: member.name, data: member.data)
            }
            inShard += 1
            if inShard == samplesPerShard { try closeShard() }
        }

        private func closeShard() throws {
            guard let tar else { return }
            try tar.finish()
            written.append(tar.path)
            self.tar = nil
            inShard = 0
        }

        @discardableResult
        public func finish() throws -> [String] {
            try closeShard()
            return written
        }
    }
}
