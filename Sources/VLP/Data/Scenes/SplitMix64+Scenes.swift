/// What the Scenes corpus needs of `SplitMix64` (defined in Text): one generator per item,
/// derived from (corpus seed, stream name, index) so that any item can be made on its own, and
/// bounded draws that do not depend on the platform's generator.
extension SplitMix64 {
    /// A generator for item `index` of a named stream, independent of every other item's.
    public init(seed: UInt64, stream: String, index: Int) {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325             // FNV-1a of the stream name
        for byte in stream.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        var mixer = SplitMix64(seed: seed ^ hash)
        self.init(seed: mixer.next() ^ (UInt64(bitPattern: Int64(index)) &* 0x9E37_79B9_7F4A_7C15))
        _ = next()
    }

    /// Uniform in 0..<bound without modulo bias (Lemire's method, as the standard library does).
    public mutating func below(_ bound: Int) -> Int {
        precondition(bound > 0, "SplitMix64.below: bound must be positive")
        return Int(next(upperBound: UInt64(bound)))
    }

    /// Uniform in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }

    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Fisher–Yates with this generator.
    public mutating func shuffled<T>(_ items: [T]) -> [T] {
        var copy = items
        guard copy.count > 1 else { return copy }
        for i in stride(from: copy.count - 1, to: 0, by: -1) { copy.swapAt(i, below(i + 1)) }
        return copy
    }
}
