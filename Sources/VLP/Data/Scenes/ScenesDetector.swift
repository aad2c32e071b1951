/// The built-in corpus's object detector: what a perfect detector would report for a Scenes
/// image, read from its scene graph — one region per object, its box, its shape as the class
/// (`SceneShape` order), and as features the box's pixels averaged to a 4×4 RGB grid (48 values
/// in [0, 1]: colour and rough outline, the part a detector's features would carry). Gives
/// ImageBERT's MOC real class labels on the built-in corpus (`vlp data synth --regions`).
public enum ScenesDetector {
    public static let grid = 4
    public static var featureWidth: Int { grid * grid * 3 }
    public static var classes: Int { SceneShape.allCases.count }

    public static func regions(of scene: Scene, image: RGBImage) throws -> SampleRegions {
        var features: [Float] = [], boxes: [Float] = [], classes: [Int64] = []
        for object in scene.objects {
            let cx = (Double(object.cell.column) + 0.5 + object.jitterX) / 3
            let cy = (Double(object.cell.row) + 0.5 + object.jitterY) / 3
            let r = object.size.radiusFraction
            let (x1, y1, x2, y2) = (max(0, cx - r), max(0, cy - r), min(1, cx + r), min(1, cy + r))
            boxes += [x1, y1, x2, y2, (x2 - x1) * (y2 - y1)].map(Float.init)
            classes.append(Int64(SceneShape.allCases.firstIndex(of: object.shape)!))
            features += pooled(image, x1: x1, y1: y1, x2: x2, y2: y2)
        }
        return try SampleRegions(features: features, boxes: boxes, classes: classes, featureWidth: featureWidth)
    }

    /// The box's pixels averaged over a `grid`×`grid` partition, RGB per cell, scaled to [0, 1].
    static func pooled(_ image: RGBImage, x1: Double, y1: Double, x2: Double, y2: Double) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(grid * grid * 3)
        for gy in 0..<grid {
            for gx in 0..<grid {
                let px0 = Int((x1 + (x2 - x1) * Double(gx) / Double(grid)) * Double(image.width))
                let px1 = max(px0 + 1, Int((x1 + (x2 - x1) * Double(gx + 1) / Double(grid)) * Double(image.width)))
                let py0 = Int((y1 + (y2 - y1) * Double(gy) / Double(grid)) * Double(image.height))
                let py1 = max(py0 + 1, Int((y1 + (y2 - y1) * Double(gy + 1) / Double(grid)) * Double(image.height)))
                var sum = [0.0, 0.0, 0.0], n = 0.0
                for y in min(py0, image.height - 1)..<min(py1, image.height) {
                    for x in min(px0, image.width - 1)..<min(px1, image.width) {
                        for c in 0..<3 { sum[c] += Double(image.pixels[3 * (y * image.width + x) + c]) }
                        n += 1
                    }
                }
                out += sum.map { Float($0 / max(n, 1) / 255) }
            }
        }
        return out
    }
}
