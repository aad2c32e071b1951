import CTorch
import Foundation

/// TorchScript archives (`torch.jit.save`; OpenAI CLIP's released `ViT-B-32.pt` is one), whose
/// pickles name TorchScript classes that only libtorch can rebuild. Their tensors are read through
/// libtorch's own `torch::jit::load`, which never runs Python (only the archive's TorchScript
/// `__setstate__` methods, if it has any); `PyTorchCheckpoint.read` refuses them, so a caller
/// opts in to this loader by name.
public enum TorchScriptArchive {
    /// Whether `url` is a zip archive with TorchScript's `constants.pkl` record, which
    /// `torch.save` files never have.
    public static func isArchive(_ url: URL) throws -> Bool {
        guard try PyTorchCheckpoint.isZip(url) else { return false }
        guard let archive = vt_archive_open(url.path) else { throw TorchError.lastError("opening \(url.path)") }
        defer { vt_archive_close(archive) }
        return try isArchive(archive, source: url.path)
    }

    static func isArchive(_ archive: vt_archive, source: String) throws -> Bool {
        let found = vt_archive_has_record(archive, "constants.pkl")
        if found < 0 { throw TorchError.lastError("reading the records of \(source)") }
        return found == 1
    }

    /// The archive's parameters and buffers under their dotted names (Python's `state_dict()`
    /// keys, plus any non-persistent buffer), on the CPU, detached.
    public static func stateDict(_ url: URL) throws -> [String: Tensor] {
        var names: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
        var list: UnsafeMutablePointer<vt_tensor?>?
        var count = 0
        try check(vt_torchscript_state(url.path, &names, &list, &count), "loading the TorchScript archive \(url.path)")
        defer { vt_free_names(names) }
        let tensors = takeList(list, count)
        var state: [String: Tensor] = [:]
        for (index, tensor) in tensors.enumerated() {
            let name = String(cString: names![index]!)
            guard state.updateValue(tensor, forKey: name) == nil else {
                throw CheckpointFormatError(source: url.path, reason: "the tensor \(name) appears twice")
            }
        }
        return state
    }
}
