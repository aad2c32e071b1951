/// WebDataset-style streaming shuffle: holds up to `capacity` items; once full, each new item
/// takes the place of a randomly chosen held one, which is given out. At the end the rest come
/// out in random order. Memory stays at `capacity` items whatever the stream's length; a
/// capacity of 1 or less gives the items out unchanged.
///
/// The order depends only on the items' order and the generator, so a seeded generator makes
/// it repeatable.
public struct ShuffleBuffer<Element> {
    public let capacity: Int
    private var items: [Element] = []
    private var generator: SplitMix64

    public init(capacity: Int, generator: SplitMix64) {
        self.capacity = max(1, capacity)
        self.generator = generator
        items.reserveCapacity(min(self.capacity, 1 << 16))
    }

    /// Number of items held.
    public var count: Int { items.count }

    /// Takes `item`; returns the item given out in exchange, or nil while the buffer fills.
    public mutating func push(_ item: Element) -> Element? {
        if capacity == 1 { return item }
        if items.count < capacity {
            items.append(item)
            return nil
        }
        let slot = Int(generator.next(upperBound: UInt64(items.count)))
        let out = items[slot]
        items[slot] = item
        return out
    }

    /// At the end of the stream: one of the held items, chosen at random, or nil when empty.
    public mutating func drain() -> Element? {
        guard !items.isEmpty else { return nil }
        let slot = Int(generator.next(upperBound: UInt64(items.count)))
        items.swapAt(slot, items.count - 1)
        return items.removeLast()
    }
}
