import Foundation
import Torch

/// Reads the tensors of a weights file by its format: safetensors (`.safetensors`) or a PyTorch
/// pickle (`.bin`, `.pt`, `.pth`, `.ckpt`, zip or legacy layout, through the restricted unpickler).
public enum CheckpointFile {
    public static func read(_ url: URL) throws -> [String: Tensor] {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw ModelError.missingFile(path: url.path, hint: "no checkpoint there (for the project's real weights run `make assets`)")
        }
        switch url.pathExtension.lowercased() {
        case "safetensors": return try SafeTensors.read(url).tensors
        case "bin", "pt", "pth", "ckpt": return try PyTorchCheckpoint.read(url)
        default:
            throw ModelError.unreadableFile(path: url.path, reason: "unknown weights format .\(url.pathExtension) (expected .safetensors, .bin, .pt, .pth or .ckpt)")
        }
    }

    /// The tensors whose keys start with `prefix`, with the prefix removed, and the keys left out.
    public static func selecting(prefix: String, from tensors: [String: Tensor]) -> (selected: [String: Tensor], others: [String]) {
        var selected: [String: Tensor] = [:]
        var others: [String] = []
        for (key, value) in tensors {
            if key.hasPrefix(prefix) { selected[String(key.dropFirst(prefix.count))] = value } else { others.append(key) }
        }
        return (selected, others.sorted())
    }
}
