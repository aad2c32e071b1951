/// What the texts of a scene state: its objects grouped by (shape, colour) with counts, and one
/// spatial relation between two single objects. Read from the scene graph by fixed rules, so a
/// description (and every text rendered from it) is determined by the image. Hard negatives are
/// descriptions rewritten in one aspect (UNIMO's scene-graph rewriting), then rendered alike.

/// Objects of one shape and colour (they share a size), in reading order of their cells.
public struct ObjectGroup: Equatable, Sendable {
    public var shape: SceneShape
    public var color: SceneColor
    public var size: ObjectSize
    public var count: Int
    public var cells: [GridCell]
}

public enum SpatialRelationKind: String, CaseIterable, Sendable {
    case leftOf, rightOf, above, below

    public var inverse: SpatialRelationKind {
        switch self {
        case .leftOf: return .rightOf
        case .rightOf: return .leftOf
        case .above: return .below
        case .below: return .above
        }
    }
}

/// `groups[subject]` is `kind` `groups[object]` (both groups hold one object).
public struct SpatialRelation: Equatable, Sendable {
    public var subject: Int
    public var object: Int
    public var kind: SpatialRelationKind
}

public struct SceneDescription: Equatable, Sendable {
    public var background: SceneBackground
    /// In reading order of each group's first cell.
    public var groups: [ObjectGroup]
    public var relation: SpatialRelation?

    public init(background: SceneBackground, groups: [ObjectGroup], relation: SpatialRelation?) {
        self.background = background
        self.groups = groups
        self.relation = relation
    }

    /// The description of a scene. The relation is between the first two single-object groups
    /// (in reading order) whose cells differ: horizontal when their columns differ, else vertical.
    public init(scene: Scene) {
        var groups: [ObjectGroup] = []
        for object in scene.objects {
            if let i = groups.firstIndex(where: { $0.shape == object.shape && $0.color == object.color }) {
                groups[i].count += 1
                groups[i].cells.append(object.cell)
            } else {
                groups.append(ObjectGroup(shape: object.shape, color: object.color, size: object.size,
                                          count: 1, cells: [object.cell]))
            }
        }
        for i in groups.indices { groups[i].cells.sort() }
        groups.sort { $0.cells[0] < $1.cells[0] }
        var relation: SpatialRelation?
        let singles = groups.indices.filter { groups[$0].count == 1 }
        search: for (n, a) in singles.enumerated() {
            for b in singles[(n + 1)...] {
                let ca = groups[a].cells[0], cb = groups[b].cells[0]
                if ca.column != cb.column {
                    relation = SpatialRelation(subject: a, object: b, kind: ca.column < cb.column ? .leftOf : .rightOf)
                } else {
                    relation = SpatialRelation(subject: a, object: b, kind: ca.row < cb.row ? .above : .below)
                }
                break search
            }
        }
        self.init(background: scene.background, groups: groups, relation: relation)
    }

    public var objectCount: Int { groups.reduce(0) { $0 + $1.count } }

    /// The aspects in which `other` differs from this description (empty when equal).
    /// Colour and size are both `attribute`; shape is `object`.
    public func differences(from other: SceneDescription) -> Set<String> {
        var aspects = Set<String>()
        if background != other.background { aspects.insert("background") }
        if relation != other.relation { aspects.insert(RewriteKind.relation.rawValue) }
        guard groups.count == other.groups.count else { aspects.insert("groups"); return aspects }
        for (a, b) in zip(groups, other.groups) {
            if a.color != b.color || a.size != b.size { aspects.insert(RewriteKind.attribute.rawValue) }
            if a.shape != b.shape { aspects.insert(RewriteKind.object.rawValue) }
            if a.count != b.count { aspects.insert(RewriteKind.count.rawValue) }
            if a.cells != b.cells { aspects.insert("cells") }
        }
        return aspects
    }

    /// This description rewritten in one aspect so that it no longer fits the scene, or nil when
    /// the kind does not apply (a relation needs two single objects). `groupChoices` limits which
    /// groups may change (a query mentions only the first two).
    public func rewritten(_ kind: RewriteKind, using rng: inout SplitMix64,
                          groupChoices: Range<Int>? = nil, allowsSizeChange: Bool = true) -> SceneDescription? {
        var copy = self
        let choices = Array(groupChoices.map { $0.clamped(to: groups.indices) } ?? groups.indices)
        guard !choices.isEmpty else { return nil }
        switch kind {
        case .relation:
            guard let relation else { return nil }
            copy.relation?.kind = relation.kind.inverse
        case .attribute:
            let g = rng.pick(choices)
            let group = groups[g]
            let freeColors = SceneColor.allCases.filter { color in
                !groups.contains { $0.shape == group.shape && $0.color == color }
            }
            if allowsSizeChange && (freeColors.isEmpty || rng.below(3) == 0) {
                copy.groups[g].size = group.size == .small ? .large : .small
            } else {
                guard !freeColors.isEmpty else { return nil }
                copy.groups[g].color = rng.pick(freeColors)
            }
        case .object:
            let g = rng.pick(choices)
            let group = groups[g]
            let freeShapes = SceneShape.allCases.filter { shape in
                !groups.contains { $0.shape == shape && $0.color == group.color }
            }
            guard !freeShapes.isEmpty else { return nil }
            copy.groups[g].shape = rng.pick(freeShapes)
        case .count:
            let g = rng.pick(choices)
            let count = groups[g].count
            copy.groups[g].count = count == 1 ? 2 : (rng.below(2) == 0 ? count + 1 : count - 1)
        }
        return copy
    }
}
