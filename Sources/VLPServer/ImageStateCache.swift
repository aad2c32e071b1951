import Foundation
import Torch

/// The image tower's token states of indexed images, kept between re-ranked queries: a popular
/// candidate is then decoded and encoded once, not once a query (R2D2's own evaluation encodes
/// every image once before scoring pairs). Bounded by bytes; the least recently used images
/// leave first. Not thread-safe: the search engine calls it on its model queue only.
final class ImageStateCache: @unchecked Sendable {
    /// Most bytes of states kept (0: nothing is kept).
    let capacityBytes: Int
    private(set) var totalBytes = 0
    private(set) var hits = 0
    private(set) var misses = 0

    /// A doubly linked list over `nodes` in order of use, most recent at `head`.
    private struct Node {
        var key: String
        /// nil once the slot is free.
        var states: Tensor?
        var bytes: Int
        var newer: Int?
        var older: Int?
    }
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var slot: [String: Int] = [:]
    private var head: Int?
    private var tail: Int?

    init(capacityBytes: Int) {
        self.capacityBytes = max(0, capacityBytes)
    }

    var count: Int { slot.count }

    /// The states kept for `key`, marked as just used; nil (a miss) otherwise.
    func states(for key: String) -> Tensor? {
        guard let i = slot[key] else {
            misses += 1
            return nil
        }
        hits += 1
        unlink(i)
        pushFront(i)
        return nodes[i].states
    }

    /// Keeps `states` (one image's, owning its storage) under `key`, evicting the least recently
    /// used images until the total fits. States larger than the whole capacity are not kept.
    func insert(_ states: Tensor, for key: String) {
        let bytes = states.count * states.dtype.byteSize
        guard bytes <= capacityBytes else { return }
        if let old = slot[key] { remove(old) }
        while totalBytes + bytes > capacityBytes, let last = tail { remove(last) }
        let node = Node(key: key, states: states, bytes: bytes, newer: nil, older: nil)
        let i: Int
        if let reused = free.popLast() {
            nodes[reused] = node
            i = reused
        } else {
            nodes.append(node)
            i = nodes.count - 1
        }
        slot[key] = i
        totalBytes += bytes
        pushFront(i)
    }

    private func remove(_ i: Int) {
        unlink(i)
        slot[nodes[i].key] = nil
        totalBytes -= nodes[i].bytes
        nodes[i].states = nil    // freed now; the slot is reused by a later insert
        free.append(i)
    }

    private func unlink(_ i: Int) {
        let (newer, older) = (nodes[i].newer, nodes[i].older)
        if let newer { nodes[newer].older = older } else { head = older }
        if let older { nodes[older].newer = newer } else { tail = newer }
        nodes[i].newer = nil
        nodes[i].older = nil
    }

    private func pushFront(_ i: Int) {
        nodes[i].older = head
        if let head { nodes[head].newer = i }
        head = i
        if tail == nil { tail = i }
    }
}
