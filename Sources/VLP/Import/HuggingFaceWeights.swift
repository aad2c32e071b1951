import Foundation
import Torch

/// A Hugging Face model directory's weights, as `save_pretrained` writes them: one file
/// (`model.safetensors`, else `pytorch_model.bin`), or — past `max_shard_size` — numbered shards
/// listed by an index (`model.safetensors.index.json` / `pytorch_model.bin.index.json`:
/// `{"metadata": {"total_size": …}, "weight_map": {key: shard file}}`).
///
/// Shards are read one by one and must hold exactly the keys the index gives them: a key the index
/// does not list, one listed but absent from its shard, a shard file missing or named outside the
/// directory is an error naming it. fp16 shards convert as a single file does (`SourceTensors`).
enum HuggingFaceWeights {
    /// Single weight files, in the order they are looked for.
    static let singleFiles = ["model.safetensors", "pytorch_model.bin"]
    /// Shard indexes, in the same order.
    static let indexFiles = ["model.safetensors.index.json", "pytorch_model.bin.index.json"]

    /// The directory's tensors, and the file errors about them should name (the single file, or the index).
    static func read(in folder: URL) throws -> (tensors: [String: Tensor], source: URL) {
        let fm = FileManager.default
        func file(_ name: String) -> URL { folder.appendingPathComponent(name) }
        if let single = singleFiles.map(file).first(where: { fm.fileExists(atPath: $0.path) }) {
            return (try CheckpointFile.read(single), single)
        }
        guard let index = indexFiles.map(file).first(where: { fm.fileExists(atPath: $0.path) }) else {
            throw ModelError.missingFile(path: folder.path, hint: "no \((singleFiles + indexFiles).joined(separator: ", ")) in the directory")
        }
        return (try readShards(index: index, in: folder), index)
    }

    /// The tensors of every shard `index` lists, each shard holding exactly its listed keys.
    static func readShards(index: URL, in folder: URL) throws -> [String: Tensor] {
        struct Index: Decodable {
            var weightMap: [String: String]
            enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
        }
        func fail(_ reason: String) -> ModelError { .invalidCheckpoint(source: index.path, reason: reason) }
        let data: Data
        do { data = try Data(contentsOf: index) } catch {
            throw ModelError.unreadableFile(path: index.path, reason: error.localizedDescription)
        }
        let weightMap: [String: String]
        do { weightMap = try JSONDecoder().decode(Index.self, from: data).weightMap } catch {
            throw fail("not a shard index (a JSON object with weight_map: {key: shard file}): \(error)")
        }
        guard !weightMap.isEmpty else { throw fail("weight_map is empty") }
        let shards = Dictionary(grouping: weightMap.keys, by: { weightMap[$0]! })
        var tensors: [String: Tensor] = [:]
        for (shard, listed) in shards.sorted(by: { $0.key < $1.key }) {
            guard !shard.isEmpty, !shard.contains("/"), shard != "..", shard != "." else {
                throw fail("shard \"\(shard)\" is not a file name inside the directory")
            }
            let url = folder.appendingPathComponent(shard)
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw ModelError.missingFile(path: url.path, hint: "a shard \(index.lastPathComponent) lists (\(listed.count) tensors)")
            }
            let read = try CheckpointFile.read(url)
            if let stray = read.keys.sorted().first(where: { weightMap[$0] != shard }) {
                throw ModelError.invalidCheckpoint(source: url.path, reason: "holds \(stray), which \(index.lastPathComponent) \(weightMap[stray].map { "places in \($0)" } ?? "does not list")")
            }
            if let absent = listed.sorted().first(where: { read[$0] == nil }) {
                throw ModelError.invalidCheckpoint(source: url.path, reason: "lacks \(absent), which \(index.lastPathComponent) places in it")
            }
            tensors.merge(read) { a, _ in a }
        }
        return tensors
    }
}
