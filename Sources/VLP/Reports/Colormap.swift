/// The Turbo colormap (Google, 2019): a perceptually smoother rainbow from dark blue (0, cold)
/// through green and yellow to dark red (1, hot), the usual choice for attention overlays.
/// Evaluated with Anton Mikhailov's and Ruofei Du's degree-5 polynomial fit.
enum Colormap {
    /// The colour at `t` (clamped to 0…1) as 8-bit RGB.
    static func turbo(_ t: Double) -> (r: UInt8, g: UInt8, b: UInt8) {
        let x = t.isNaN ? 0 : min(max(t, 0), 1)
        let x2 = x * x, x3 = x2 * x, x4 = x2 * x2, x5 = x4 * x
        let r = 0.13572138 + 4.61539260 * x - 42.66032258 * x2 + 132.13108234 * x3 - 152.94239396 * x4 + 59.28637943 * x5
        let g = 0.09140261 + 2.19418839 * x + 4.84296658 * x2 - 14.18503333 * x3 + 4.27729857 * x4 + 2.82956604 * x5
        let b = 0.10667330 + 12.64194608 * x - 60.58204836 * x2 + 110.36276771 * x3 - 89.90310912 * x4 + 27.34824973 * x5
        return (byte(r), byte(g), byte(b))
    }

    private static func byte(_ v: Double) -> UInt8 {
        UInt8(min(max(v, 0), 1) * 255 + 0.5)
    }

    /// A CSS `linear-gradient` through the colormap, for a colour bar.
    static func cssGradient(stops: Int = 11) -> String {
        let parts = (0..<stops).map { i -> String in
            let c = turbo(Double(i) / Double(stops - 1))
            return "rgb(\(c.r),\(c.g),\(c.b))"
        }
        return "linear-gradient(to right, " + parts.joined(separator: ", ") + ")"
    }
}
