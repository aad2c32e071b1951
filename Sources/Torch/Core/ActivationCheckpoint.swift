import CTorch
import Foundation

/// Runs `block` on `inputs` without keeping its intermediate activations (activation
/// checkpointing, torch.utils.checkpoint's re-entrant kind): the forward records only the block's
/// inputs; backward runs the block again from them — with the random generators (dropout) and
/// autocast as they were — and back-propagates through that recomputation. Memory falls from
/// every activation of the block to its inputs and outputs, for one more forward.
///
/// Every tensor the block reads that needs a gradient and is not a parameter must be among
/// `inputs` (captured ones would be back-propagated through twice); tensors without gradients
/// (masks) may be captured. Outside grad mode the block simply runs.
public func checkpointed(_ inputs: [Tensor], _ block: @escaping ([Tensor]) throws -> [Tensor]) throws -> [Tensor] {
    guard isGradEnabled else { return try block(inputs) }
    let box = Unmanaged.passRetained(CheckpointBlock(block)).toOpaque()
    let list = withHandles(inputs) { handles, n in
        vt_checkpoint(checkpointTrampoline, box, { Unmanaged<CheckpointBlock>.fromOpaque($0!).release() }, handles, n)
    }
    guard let list else { throw TorchError.lastError("checkpointed") }
    var count = 0
    while list[count] != nil { count += 1 }
    return takeList(list, count)
}

/// A block kept alive by the autograd graph until its recomputation is no longer needed.
private final class CheckpointBlock {
    let run: ([Tensor]) throws -> [Tensor]
    init(_ run: @escaping ([Tensor]) throws -> [Tensor]) { self.run = run }
}

/// Called by the shim, in the forward and again in backward; errors go back as the shim's error.
private let checkpointTrampoline: vt_checkpoint_body = { context, handles, n in
    let block = Unmanaged<CheckpointBlock>.fromOpaque(context!).takeUnretainedValue()
    let inputs = (0..<n).map { Tensor(owning: handles![$0]!) }
    do {
        let outputs = try block.run(inputs)
        guard let list = malloc(MemoryLayout<vt_tensor?>.stride * (outputs.count + 1))?.bindMemory(to: vt_tensor?.self, capacity: outputs.count + 1) else {
            vt_set_error("checkpointed block: out of memory for its output list")
            return nil
        }
        for (i, output) in outputs.enumerated() { list[i] = vt_shallow_copy(output.handle) }
        list[outputs.count] = nil
        return list
    } catch {
        vt_set_error("checkpointed block: \(error)")
        return nil
    }
}

/// Where a stack of blocks can checkpoint its activations (`checkpointsActivations`).
public protocol ActivationCheckpointing: AnyObject {
    /// Recompute each block in backward instead of keeping its activations (training only).
    var checkpointsActivations: Bool { get set }
}

extension Module {
    /// Turns activation checkpointing on or off for every block stack in this module's tree;
    /// returns how many stacks there are.
    @discardableResult
    public func checkpointActivations(_ on: Bool = true) -> Int {
        var stacks = 0
        for (_, module) in namedModules() {
            guard let stack = module as? ActivationCheckpointing else { continue }
            stack.checkpointsActivations = on
            stacks += 1
        }
        return stacks
    }
}
