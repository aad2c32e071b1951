/// Renders a `SceneDescription` as Chinese or English text at the Zero corpus's three
/// granularities — a long caption (title), a content sentence with counts and positions, a short
/// query — in a plain form and a paraphrased form (other frame, reversed order, inverted relation).
public enum SceneCaptioner {
    public enum Style: Sendable { case plain, paraphrase }

    public static let languages = ["zh", "en"]

    public static func title(_ d: SceneDescription, language: String, style: Style = .plain) -> String {
        language == "zh" ? Chinese.title(d, style) : English.title(d, style)
    }

    /// Counts and positions; uses every group's cells, so only for descriptions of real scenes.
    public static func content(_ d: SceneDescription, language: String) -> String {
        language == "zh" ? Chinese.content(d) : English.content(d)
    }

    /// The first two groups in reading order, without sizes.
    public static func query(_ d: SceneDescription, language: String, style: Style = .plain) -> String {
        language == "zh" ? Chinese.query(d, style) : English.query(d, style)
    }

    /// Groups a query names.
    public static let queryGroupLimit = 2

    enum Chinese {
        static func shape(_ s: SceneShape) -> String {
            switch s {
            case .circle: return "圆形"
            case .square: return "正方形"
            case .triangle: return "三角形"
            case .star: return "五角星"
            case .diamond: return "菱形"
            case .cross: return "十字形"
            }
        }

        static func color(_ c: SceneColor) -> String {
            switch c {
            case .red: return "红色"
            case .green: return "绿色"
            case .blue: return "蓝色"
            case .yellow: return "黄色"
            case .purple: return "紫色"
            case .orange: return "橙色"
            case .white: return "白色"
            }
        }

        static func background(_ b: SceneBackground) -> String {
            switch b {
            case .black: return "黑色"
            case .grey: return "灰色"
            case .brown: return "棕色"
            }
        }

        static func number(_ n: Int) -> String {
            ["零", "一", "两", "三", "四", "五", "六", "七", "八", "九"][min(max(n, 0), 9)]
        }

        static func direction(_ k: SpatialRelationKind) -> String {
            switch k {
            case .leftOf: return "左边"
            case .rightOf: return "右边"
            case .above: return "上面"
            case .below: return "下面"
            }
        }

        static func place(_ c: GridCell) -> String {
            [["左上角", "上方", "右上角"], ["左侧", "中间", "右侧"], ["左下角", "下方", "右下角"]][c.row][c.column]
        }

        /// "两个蓝色的小三角形"
        static func item(_ g: ObjectGroup) -> String {
            "\(number(g.count))个\(color(g.color))的\(g.size == .small ? "小" : "大")\(shape(g.shape))"
        }

        /// "一、二和三"
        static func list(_ parts: [String]) -> String {
            guard parts.count > 1 else { return parts.first ?? "" }
            return parts.dropLast().joined(separator: "、") + "和" + parts.last!
        }

        /// "红色的圆形在蓝色正方形的左边"
        static func relation(_ d: SceneDescription, inverted: Bool) -> String? {
            guard let r = d.relation else { return nil }
            let subject = d.groups[inverted ? r.object : r.subject], object = d.groups[inverted ? r.subject : r.object]
            let kind = inverted ? r.kind.inverse : r.kind
            return "\(color(subject.color))的\(shape(subject.shape))在\(color(object.color))\(shape(object.shape))的\(direction(kind))"
        }

        static func title(_ d: SceneDescription, _ style: Style) -> String {
            switch style {
            case .plain:
                var text = "\(background(d.background))背景上有\(list(d.groups.map(item)))"
                if let r = relation(d, inverted: false) { text += "," + r }
                return text + "。"
            case .paraphrase:
                var text = "在\(background(d.background))的背景上,可以看到\(list(d.groups.reversed().map(item)))"
                if let r = relation(d, inverted: true) { text += ";" + r }
                return text + "。"
            }
        }

        static func content(_ d: SceneDescription) -> String {
            let total = d.objectCount
            let head = total == 1 ? "图中只有一个图形:" : "图中共有\(number(total))个图形:"
            let clauses = d.groups.map { g -> String in
                if g.count == 1 { return "\(color(g.color))的\(shape(g.shape))在\(place(g.cells[0]))" }
                return "\(number(g.count))个\(color(g.color))的\(shape(g.shape))分别在\(list(g.cells.map(place)))"
            }
            return head + clauses.joined(separator: ",") + "。"
        }

        static func queryItem(_ g: ObjectGroup) -> String {
            (g.count == 1 ? "" : "\(number(g.count))个") + color(g.color) + shape(g.shape)
        }

        static func query(_ d: SceneDescription, _ style: Style) -> String {
            let named = Array(d.groups.prefix(queryGroupLimit))
            switch style {
            case .plain: return named.map(queryItem).joined(separator: "和")
            case .paraphrase:
                return "\(background(d.background))背景上的" + named.reversed().map(queryItem).joined(separator: "和")
            }
        }
    }

    enum English {
        static func shape(_ s: SceneShape, plural: Bool) -> String {
            let word = s.rawValue
            return plural ? (s == .cross ? "crosses" : word + "s") : word
        }

        static func number(_ n: Int) -> String {
            ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"][min(max(n, 0), 9)]
        }

        static func direction(_ k: SpatialRelationKind) -> String {
            switch k {
            case .leftOf: return "to the left of"
            case .rightOf: return "to the right of"
            case .above: return "above"
            case .below: return "below"
            }
        }

        static func place(_ c: GridCell) -> String {
            [["in the top left corner", "at the top", "in the top right corner"],
             ["on the left", "in the middle", "on the right"],
             ["in the bottom left corner", "at the bottom", "in the bottom right corner"]][c.row][c.column]
        }

        /// "two small blue triangles", "a large red circle"
        static func item(_ g: ObjectGroup) -> String {
            "\(g.count == 1 ? "a" : number(g.count)) \(g.size.rawValue) \(g.color.rawValue) \(shape(g.shape, plural: g.count > 1))"
        }

        /// "one, two and three"
        static func list(_ parts: [String]) -> String {
            guard parts.count > 1 else { return parts.first ?? "" }
            return parts.dropLast().joined(separator: ", ") + " and " + parts.last!
        }

        static func capitalized(_ s: String) -> String { s.prefix(1).uppercased() + s.dropFirst() }

        /// "the red circle is to the left of the blue square"
        static func relation(_ d: SceneDescription, inverted: Bool) -> String? {
            guard let r = d.relation else { return nil }
            let subject = d.groups[inverted ? r.object : r.subject], object = d.groups[inverted ? r.subject : r.object]
            let kind = inverted ? r.kind.inverse : r.kind
            return "the \(subject.color.rawValue) \(shape(subject.shape, plural: false)) is \(direction(kind)) the \(object.color.rawValue) \(shape(object.shape, plural: false))"
        }

        static func title(_ d: SceneDescription, _ style: Style) -> String {
            switch style {
            case .plain:
                var text = capitalized(list(d.groups.map(item))) + " on a \(d.background.rawValue) background."
                if let r = relation(d, inverted: false) { text += " " + capitalized(r) + "." }
                return text
            case .paraphrase:
                let items = d.groups.reversed().map(item)
                let verb = d.groups.last!.count == 1 ? "is" : "are"
                var text = "On a \(d.background.rawValue) background there \(verb) \(list(items))"
                if let r = relation(d, inverted: true) { text += ", and " + r }
                return text + "."
            }
        }

        static func content(_ d: SceneDescription) -> String {
            let total = d.objectCount
            let head = total == 1 ? "There is one shape in the picture: " : "There are \(number(total)) shapes in the picture: "
            let clauses = d.groups.map { g -> String in
                if g.count == 1 { return "the \(g.color.rawValue) \(shape(g.shape, plural: false)) is \(place(g.cells[0]))" }
                return "the \(number(g.count)) \(g.color.rawValue) \(shape(g.shape, plural: true)) are \(list(g.cells.map(place)))"
            }
            let body = clauses.count > 1
                ? clauses.dropLast().joined(separator: ", ") + ", and " + clauses.last!
                : clauses[0]
            return head + body + "."
        }

        static func queryItem(_ g: ObjectGroup) -> String {
            (g.count == 1 ? "" : number(g.count) + " ") + g.color.rawValue + " " + shape(g.shape, plural: g.count > 1)
        }

        static func query(_ d: SceneDescription, _ style: Style) -> String {
            let named = Array(d.groups.prefix(queryGroupLimit))
            switch style {
            case .plain: return named.map(queryItem).joined(separator: " and ")
            case .paraphrase:
                return named.reversed().map(queryItem).joined(separator: " and ") + " on a \(d.background.rawValue) background"
            }
        }
    }
}
