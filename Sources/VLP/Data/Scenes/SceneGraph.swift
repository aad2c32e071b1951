/// The scene graph of one built-in corpus image: a background and 1–4 objects, each a shape with
/// a colour and a size, placed in a cell of a 3×3 grid. Everything the texts say is read from it.

public enum SceneShape: String, CaseIterable, Sendable {
    case circle, square, triangle, star, diamond, cross
}

public enum SceneColor: String, CaseIterable, Sendable {
    case red, green, blue, yellow, purple, orange, white

    public var rgb: (r: UInt8, g: UInt8, b: UInt8) {
        switch self {
        case .red: return (220, 40, 40)
        case .green: return (40, 180, 60)
        case .blue: return (50, 90, 230)
        case .yellow: return (240, 220, 40)
        case .purple: return (150, 60, 200)
        case .orange: return (250, 140, 20)
        case .white: return (245, 245, 245)
        }
    }
}

public enum SceneBackground: String, CaseIterable, Sendable {
    case black, grey, brown

    public var rgb: (r: UInt8, g: UInt8, b: UInt8) {
        switch self {
        case .black: return (20, 20, 20)
        case .grey: return (105, 105, 105)
        case .brown: return (90, 60, 35)
        }
    }
}

public enum ObjectSize: String, CaseIterable, Sendable {
    case small, large

    /// Radius as a fraction of the image side.
    var radiusFraction: Double { self == .small ? 0.075 : 0.14 }
}

/// A cell of the 3×3 layout grid: column 0 is left, row 0 is top.
public struct GridCell: Hashable, Comparable, Sendable {
    public var column: Int
    public var row: Int

    public init(column: Int, row: Int) {
        self.column = column
        self.row = row
    }

    /// Reading order: top to bottom, then left to right.
    public static func < (a: GridCell, b: GridCell) -> Bool { (a.row, a.column) < (b.row, b.column) }

    public static let all: [GridCell] = (0..<3).flatMap { row in (0..<3).map { GridCell(column: $0, row: row) } }
}

public struct SceneObject: Equatable, Sendable {
    public var shape: SceneShape
    public var color: SceneColor
    public var size: ObjectSize
    public var cell: GridCell
    /// Offset of the centre from the cell centre, in fractions of a cell (|jitter| ≤ 0.12).
    public var jitterX: Double
    public var jitterY: Double
}

public struct Scene: Equatable, Sendable {
    public var background: SceneBackground
    public var objects: [SceneObject]
    /// Seeds the pixel noise of this scene's image.
    public var noiseSeed: UInt64

    /// A random scene: 1…`maxObjects` objects in distinct cells, grouped so that objects sharing a
    /// shape and colour also share a size (the texts count them together).
    public static func random(using rng: inout SplitMix64, maxObjects: Int = 4) -> Scene {
        let count = 1 + rng.below(max(1, min(maxObjects, 9)))
        let groupCount = 1 + rng.below(count)
        // Distinct (shape, colour) pairs for the groups.
        var kinds: [(SceneShape, SceneColor, ObjectSize)] = []
        while kinds.count < groupCount {
            let shape = rng.pick(SceneShape.allCases), color = rng.pick(SceneColor.allCases)
            if kinds.contains(where: { $0.0 == shape && $0.1 == color }) { continue }
            kinds.append((shape, color, rng.pick(ObjectSize.allCases)))
        }
        // Every group gets one object, the rest go to random groups.
        var members = [Int](repeating: 1, count: groupCount)
        for _ in groupCount..<count { members[rng.below(groupCount)] += 1 }
        let cells = rng.shuffled(GridCell.all)
        var objects: [SceneObject] = []
        for (group, kind) in kinds.enumerated() {
            for _ in 0..<members[group] {
                objects.append(SceneObject(shape: kind.0, color: kind.1, size: kind.2, cell: cells[objects.count],
                                           jitterX: (rng.unit() - 0.5) * 0.24, jitterY: (rng.unit() - 0.5) * 0.24))
            }
        }
        return Scene(background: rng.pick(SceneBackground.allCases), objects: objects, noiseSeed: rng.next())
    }
}
