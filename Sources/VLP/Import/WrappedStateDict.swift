import Foundation
import Torch

/// A training checkpoint's state dict taken out of its wrapper. Trainers of the released families
/// save `{"epoch", "name", "state_dict", "optimizer", …}` with keys prefixed `module.` by
/// DistributedDataParallel; `CheckpointFile.read` flattens that to `state_dict.module.…` and
/// `optimizer.…` (numbers and strings are not tensors and are gone). A plain state dict passes
/// through, with a `module.` prefix removed when every key has it.
enum WrappedStateDict {
    /// `key` without a training checkpoint's `container` (`state_dict.`; R2D2's `model.`) and
    /// DistributedDataParallel's `module.`.
    static func stateDictKey(_ key: String, container: String = "state_dict.") -> String {
        var name = Substring(key)
        if name.hasPrefix(container) { name = name.dropFirst(container.count) }
        if name.hasPrefix("module.") { name = name.dropFirst("module.".count) }
        return String(name)
    }

    /// The state dict inside a training checkpoint — with the tensors kept beside it under
    /// `besides` prefixes (an optimizer's state) added under their own names, for the importer to
    /// ignore — or a plain one, with `module.` removed; and whether it was wrapped. Any other
    /// tensor beside the state dict is an error naming it; `layout` says what the wrapper holds.
    /// `container` is the wrapper's key of the state dict with its dot (`state_dict.`; R2D2 saves
    /// `model.`).
    static func unwrap(_ tensors: [String: Tensor], source: String, container: String = "state_dict.", besides: [String],
                       layout: String) throws -> ([String: Tensor], wrapped: Bool) {
        func fail(_ reason: String) -> ModelError { .invalidCheckpoint(source: source, reason: reason) }
        let wrapped = tensors.keys.contains { $0.hasPrefix(container) }
        var inner: [String: Tensor] = [:], outer: [String: Tensor] = [:]
        for (key, tensor) in tensors {
            if !wrapped {
                inner[key] = tensor
            } else if key.hasPrefix(container) {
                inner[String(key.dropFirst(container.count))] = tensor
            } else if besides.contains(where: { key.hasPrefix($0) }) {
                outer[key] = tensor
            } else {
                throw fail("unexpected key \(key) beside \(container.dropLast()) (\(layout))")
            }
        }
        let prefixed = inner.keys.filter { $0.hasPrefix("module.") }
        if !prefixed.isEmpty {
            if let bare = inner.keys.sorted().first(where: { !$0.hasPrefix("module.") }) {
                throw fail("key \(bare) lacks the module. prefix the other keys have")
            }
            inner = Dictionary(uniqueKeysWithValues: inner.map { (String($0.key.dropFirst("module.".count)), $0.value) })
        }
        for (key, tensor) in outer {
            guard inner[key] == nil else { throw fail("key \(key) is both inside and beside the state dict") }
            inner[key] = tensor
        }
        return (inner, wrapped)
    }
}
