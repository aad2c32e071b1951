/// Draws a `Scene` into an `RGBImage` with 4×4 supersampled coverage (soft edges) and uniform
/// per-pixel noise. Pure and deterministic: the same scene and options give the same bytes.
public struct SceneRasterizer: Sendable {
    public var size: Int
    /// Noise added to each channel, uniform in −amplitude…amplitude.
    public var noiseAmplitude: Int

    public init(size: Int = 64, noiseAmplitude: Int = 10) {
        self.size = size
        self.noiseAmplitude = noiseAmplitude
    }

    public func render(_ scene: Scene) -> RGBImage {
        let n = size
        var r = [Double](repeating: Double(scene.background.rgb.r), count: n * n)
        var g = [Double](repeating: Double(scene.background.rgb.g), count: n * n)
        var b = [Double](repeating: Double(scene.background.rgb.b), count: n * n)
        let cell = Double(n) / 3
        let samples = 4
        for object in scene.objects {
            let cx = (Double(object.cell.column) + 0.5 + object.jitterX) * cell
            let cy = (Double(object.cell.row) + 0.5 + object.jitterY) * cell
            let radius = object.size.radiusFraction * Double(n)
            let x0 = max(0, Int(cx - radius) - 1), x1 = min(n - 1, Int(cx + radius) + 1)
            let y0 = max(0, Int(cy - radius) - 1), y1 = min(n - 1, Int(cy + radius) + 1)
            guard x0 <= x1, y0 <= y1 else { continue }
            let color = object.color.rgb
            for y in y0...y1 {
                for x in x0...x1 {
                    var inside = 0
                    for sy in 0..<samples {
                        for sx in 0..<samples {
                            let px = (Double(x) + (Double(sx) + 0.5) / Double(samples) - cx) / radius
                            let py = (Double(y) + (Double(sy) + 0.5) / Double(samples) - cy) / radius
                            if SceneRasterizer.contains(object.shape, px, py) { inside += 1 }
                        }
                    }
                    guard inside > 0 else { continue }
                    let alpha = Double(inside) / Double(samples * samples)
                    let i = y * n + x
                    r[i] += (Double(color.r) - r[i]) * alpha
                    g[i] += (Double(color.g) - g[i]) * alpha
                    b[i] += (Double(color.b) - b[i]) * alpha
                }
            }
        }
        var rng = SplitMix64(seed: scene.noiseSeed)
        var pixels = [UInt8](repeating: 0, count: n * n * 3)
        let span = 2 * noiseAmplitude + 1
        for i in 0..<(n * n) {
            for (c, channel) in [r[i], g[i], b[i]].enumerated() {
                let noise = noiseAmplitude > 0 ? rng.below(span) - noiseAmplitude : 0
                pixels[3 * i + c] = UInt8(clamping: Int(channel.rounded()) + noise)
            }
        }
        return RGBImage(width: n, height: n, pixels: pixels)
    }

    /// Whether the point (x, y), in units of the object's radius around its centre (y down),
    /// lies inside the shape.
    static func contains(_ shape: SceneShape, _ x: Double, _ y: Double) -> Bool {
        switch shape {
        case .circle:
            return x * x + y * y <= 1
        case .square:
            return abs(x) <= 0.85 && abs(y) <= 0.85
        case .diamond:
            return abs(x) + abs(y) <= 1
        case .cross:
            return (abs(x) <= 0.32 && abs(y) <= 1) || (abs(y) <= 0.32 && abs(x) <= 1)
        case .triangle:
            return insidePolygon(triangle, x, y)
        case .star:
            return insidePolygon(star, x, y)
        }
    }

    private static let triangle: [(Double, Double)] = [(0, -1), (0.95, 0.8), (-0.95, 0.8)]

    /// A five-pointed star, point up: outer radius 1, inner 0.45.
    private static let star: [(Double, Double)] = (0..<10).map { k in
        let angle = -Double.pi / 2 + Double(k) * Double.pi / 5
        let radius = k % 2 == 0 ? 1.0 : 0.45
        return (radius * cos(angle), radius * sin(angle))
    }

    /// Even–odd rule.
    private static func insidePolygon(_ points: [(Double, Double)], _ x: Double, _ y: Double) -> Bool {
        var inside = false
        var j = points.count - 1
        for i in 0..<points.count {
            let (xi, yi) = points[i], (xj, yj) = points[j]
            if (yi > y) != (yj > y), x < (xj - xi) * (y - yi) / (yj - yi) + xi { inside.toggle() }
            j = i
        }
        return inside
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
