/// A trie over Unicode scalar values, for longest-match lookups (WordPiece pieces, jieba's
/// dictionary prefixes). Edges live in one open-addressing hash table keyed by
/// (node, scalar), so a step costs one probe and the whole trie is three flat arrays.
struct ScalarTrie: Sendable {
    /// Node index; `ScalarTrie.none` when an edge is absent.
    typealias Node = Int32
    static let none: Node = -1

    /// One value per node (a token id, a frequency); `defaultValue` for nodes that only prefix.
    private(set) var values: [Int32]
    private let defaultValue: Int32
    private var keys: [UInt64]
    private var targets: [Int32]
    private var mask: Int
    private var edgeCount = 0
    private static let emptyKey = UInt64.max

    init(defaultValue: Int32, expectedNodes: Int = 1024) {
        self.defaultValue = defaultValue
        values = []
        values.reserveCapacity(expectedNodes)
        var capacity = 16
        while capacity < expectedNodes * 2 { capacity <<= 1 }
        keys = Array(repeating: Self.emptyKey, count: capacity)
        targets = Array(repeating: Self.none, count: capacity)
        mask = capacity - 1
    }

    /// Adds a root (a trie may hold several, e.g. word-initial and `##`-continuation pieces).
    mutating func addRoot() -> Node {
        values.append(defaultValue)
        return Node(values.count - 1)
    }

    /// The child of `node` along `scalar`, or `ScalarTrie.none`.
    @inline(__always)
    func child(_ node: Node, _ scalar: UInt32) -> Node {
        let key = UInt64(UInt32(bitPattern: node)) << 21 | UInt64(scalar)
        var slot = Self.slot(key, mask)
        return keys.withUnsafeBufferPointer { keys in
            while true {
                let k = keys[slot]
                if k == key { return targets[slot] }
                if k == Self.emptyKey { return Self.none }
                slot = (slot + 1) & mask
            }
        }
    }

    @inline(__always)
    func value(_ node: Node) -> Int32 { values[Int(node)] }

    /// Inserts the path `scalars` below `root` and returns its last node (created when absent).
    @discardableResult
    mutating func insert<S: Sequence>(_ scalars: S, from root: Node) -> Node where S.Element == UInt32 {
        var node = root
        for scalar in scalars {
            let next = child(node, scalar)
            if next != Self.none {
                node = next
                continue
            }
            values.append(defaultValue)
            let created = Node(values.count - 1)
            addEdge(UInt64(UInt32(bitPattern: node)) << 21 | UInt64(scalar), created)
            node = created
        }
        return node
    }

    mutating func setValue(_ value: Int32, at node: Node) { values[Int(node)] = value }

    @inline(__always)
    private static func slot(_ key: UInt64, _ mask: Int) -> Int {
        Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> 29) & mask
    }

    private mutating func addEdge(_ key: UInt64, _ target: Node) {
        if (edgeCount + 1) * 2 > keys.count { grow() }
        var slot = Self.slot(key, mask)
        while keys[slot] != Self.emptyKey { slot = (slot + 1) & mask }
        keys[slot] = key
        targets[slot] = target
        edgeCount += 1
    }

    private mutating func grow() {
        let oldKeys = keys, oldTargets = targets
        keys = Array(repeating: Self.emptyKey, count: oldKeys.count * 2)
        targets = Array(repeating: Self.none, count: oldKeys.count * 2)
        mask = keys.count - 1
        for (key, target) in zip(oldKeys, oldTargets) where key != Self.emptyKey {
            var slot = Self.slot(key, mask)
            while keys[slot] != Self.emptyKey { slot = (slot + 1) & mask }
            keys[slot] = key
            targets[slot] = target
        }
    }
}
