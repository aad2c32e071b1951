import Foundation

/// One chart axis: the range it spans, where its ticks go and how they read. Linear axes get
/// ticks at "nice" steps (1, 2 or 5 × 10ᵏ, Heckbert's rule) and bounds rounded out to a tick;
/// logarithmic axes get ticks at powers of ten, or at 1-2-5 / 1…9 multiples of them when the data
/// span less than a few decades. Values are in data units throughout.
struct AxisScale: Sendable {
    let lower: Double
    let upper: Double
    let ticks: [Double]
    let labels: [String]
    let isLogarithmic: Bool

    /// Where `value` falls between `lower` (0) and `upper` (1).
    func fraction(_ value: Double) -> Double {
        if isLogarithmic {
            return (log10(value) - log10(lower)) / (log10(upper) - log10(lower))
        }
        return (value - lower) / (upper - lower)
    }

    /// A linear axis covering `minimum…maximum` with about `tickCount` ticks. Rounded out to the
    /// ticks on each side (`roundsOut`, for y), or spanning exactly the data with the ticks that
    /// fall inside (for x: steps 0…1200 should not draw an empty 1200…1500).
    static func linear(minimum: Double, maximum: Double, tickCount: Int = 5, roundsOut: Bool = true) -> AxisScale {
        var lo = minimum, hi = maximum
        if !(lo.isFinite && hi.isFinite) { lo = 0; hi = 1 }
        if lo > hi { swap(&lo, &hi) }
        if hi - lo <= Swift.max(abs(hi), abs(lo)) * 1e-12 {
            // A flat series: centre it in a range of its own magnitude.
            let pad = lo == 0 ? 1 : abs(lo) * 0.1
            lo -= pad; hi += pad
        }
        if !roundsOut {
            // The coarsest nice step that still puts at least 3 ticks inside the data (or 2 when the
            // range is so narrow that none does).
            var target = Swift.max(2, tickCount)
            while true {
                let step = niceNumber((hi - lo) / Double(target - 1), rounding: true)
                let first = (lo / step - 1e-9).rounded(.up), last = (hi / step + 1e-9).rounded(.down)
                if last - first >= 2 || target > 4 * tickCount {
                    let ticks = first <= last ? stride(from: first, through: last, by: 1).map { $0 * step } : []
                    return AxisScale(lower: lo, upper: hi, ticks: ticks,
                                     labels: linearLabels(ticks, step: step), isLogarithmic: false)
                }
                target += 1
            }
        }
        let step = niceNumber((hi - lo) / Double(Swift.max(1, tickCount - 1)), rounding: true)
        let first = (lo / step).rounded(.down), last = (hi / step).rounded(.up)
        let ticks = stride(from: first, through: last, by: 1).map { $0 * step }
        return AxisScale(lower: first * step, upper: last * step, ticks: ticks,
                         labels: linearLabels(ticks, step: step), isLogarithmic: false)
    }

    /// A logarithmic axis covering `minimum…maximum` (both > 0).
    static func logarithmic(minimum: Double, maximum: Double) -> AxisScale {
        guard minimum > 0, maximum.isFinite, minimum <= maximum else {
            return logarithmic(minimum: 0.1, maximum: 1)
        }
        let decadeLow = Int(log10(minimum).rounded(.down)), decadeHigh = Int(log10(maximum).rounded(.up))
        // Decades alone when the data span 1.5 decades or more; finer multiples for narrower data.
        let wide = log10(maximum / minimum) >= 1.5
        for multiples in wide ? [[1.0], [1, 2, 5]] : [[1, 2, 5], [1, 2, 3, 4, 5, 6, 7, 8, 9]] {
            var candidates: [Double] = []
            for k in (decadeLow - 1)...(decadeHigh + 1) {
                for m in multiples { candidates.append(m * pow(10, Double(k))) }
            }
            // Snap values like 2.9999999 to their candidate before comparing.
            let tolerance = 1e-9
            guard let lower = candidates.last(where: { $0 <= minimum * (1 + tolerance) }),
                  let upper = candidates.first(where: { $0 >= maximum * (1 - tolerance) }) else { continue }
            var ticks = candidates.filter { $0 >= lower * (1 - tolerance) && $0 <= upper * (1 + tolerance) }
            if ticks.count < 3 { continue }
            if ticks.count > 9 {
                // Many decades: keep every n-th one, always including both ends.
                let every = (ticks.count + 7) / 8
                ticks = ticks.enumerated().filter { $0.offset % every == 0 || $0.offset == ticks.count - 1 }.map(\.element)
            }
            return AxisScale(lower: lower, upper: upper, ticks: ticks,
                             labels: logarithmicLabels(ticks), isLogarithmic: true)
        }
        // Less than one unit of the finest multiples: linear ticks, placed on the log scale.
        let linear = AxisScale.linear(minimum: minimum, maximum: maximum)
        if linear.lower > 0 {
            return AxisScale(lower: linear.lower, upper: linear.upper, ticks: linear.ticks,
                             labels: linear.labels, isLogarithmic: true)
        }
        let lower = pow(10, Double(decadeLow)), upper = pow(10, Double(Swift.max(decadeHigh, decadeLow + 1)))
        return AxisScale(lower: lower, upper: upper, ticks: [lower, upper],
                         labels: logarithmicLabels([lower, upper]), isLogarithmic: true)
    }

    /// The nice number (1, 2, 5 or 10 × 10ᵏ) nearest to `value` (rounding) or at least `value`.
    static func niceNumber(_ value: Double, rounding: Bool) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let exponent = (log10(value) + 1e-12).rounded(.down)
        let power = pow(10, exponent)
        let fraction = value / power
        let nice: Double
        if rounding {
            nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10
        } else {
            nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10
        }
        return nice * power
    }

    /// Labels of evenly spaced ticks, all in one style: exponent form (`8e−5`) for the whole axis
    /// when its step is below 10⁻⁴ or its values reach 10¹², otherwise fixed decimals.
    static func linearLabels(_ ticks: [Double], step: Double) -> [String] {
        let largest = ticks.map(abs).max() ?? 0
        let exponent = abs(step) < 1e-4 || largest >= 1e12
        return ticks.map { label($0, step: step, exponent: exponent) }
    }

    /// Labels of logarithmic ticks: plain numbers (`0.01`, `20k`) within 10⁻³…10⁶, otherwise
    /// powers of ten for the whole axis (`10⁻⁵`, `2×10⁻⁵`).
    static func logarithmicLabels(_ ticks: [Double]) -> [String] {
        let positive = ticks.filter { $0 > 0 }
        guard let smallest = positive.min(), let largest = positive.max() else { return ticks.map { label($0, step: $0) } }
        if smallest >= 1e-3 * (1 - 1e-9) && largest < 1e6 { return ticks.map { label($0, step: $0) } }
        return ticks.map(powerOfTenLabel)
    }

    /// A tick label: as many decimals as the step needs, thousands as k / M / G, tiny or huge
    /// values in exponent form (`2e−5`) unless the caller decides for the whole axis.
    static func label(_ value: Double, step: Double, exponent: Bool? = nil) -> String {
        if value == 0 || abs(value) < abs(step) * 1e-9 { return "0" }
        let magnitude = abs(value)
        if exponent ?? (magnitude >= 1e12 || magnitude < 1e-4 || abs(step) < 1e-5) {
            return exponentLabel(value)
        }
        for (scale, suffix) in [(1e9, "G"), (1e6, "M"), (1e3, "k")] where magnitude >= scale * 10 || (magnitude >= scale && abs(step) >= scale) {
            return fixed(value / scale, decimals: decimals(for: step / scale)) + suffix
        }
        return fixed(value, decimals: decimals(for: step))
    }

    private static func decimals(for step: Double) -> Int {
        let s = abs(step)
        guard s > 0, s.isFinite, s < 1 else { return 0 }
        // The fewest decimals that show the step exactly (0.25 → 2, 0.1 → 1).
        for d in 0...8 {
            let scaled = s * pow(10, Double(d))
            if abs(scaled - scaled.rounded()) < 1e-6 * Swift.max(1, scaled) { return d }
        }
        return 8
    }

    private static func fixed(_ value: Double, decimals: Int) -> String {
        let text = String(format: "%.\(decimals)f", value)
        return text == "-0" ? "0" : text.replacingOccurrences(of: "-", with: "−")
    }

    /// `10⁻⁵`, `2×10⁻⁵`: the mantissa (rounded to one decimal) times a power of ten in superscript.
    private static func powerOfTenLabel(_ value: Double) -> String {
        let exponent = Int((log10(abs(value)) + 1e-9).rounded(.down))
        let mantissa = ((value / pow(10, Double(exponent))) * 10).rounded() / 10
        let superscripts: [Character: Character] = ["0": "⁰", "1": "¹", "2": "²", "3": "³", "4": "⁴", "5": "⁵",
                                                    "6": "⁶", "7": "⁷", "8": "⁸", "9": "⁹", "-": "⁻"]
        let power = "10" + String(String(exponent).map { superscripts[$0] ?? $0 })
        if mantissa == 1 { return power }
        let m = mantissa == mantissa.rounded() ? String(Int(mantissa)) : String(format: "%.1f", mantissa)
        return m.replacingOccurrences(of: "-", with: "−") + "×" + power
    }

    private static func exponentLabel(_ value: Double) -> String {
        let exponent = Int((log10(abs(value)) + 1e-9).rounded(.down))
        var mantissa = value / pow(10, Double(exponent))
        mantissa = (mantissa * 10).rounded() / 10
        let m = mantissa == mantissa.rounded() ? String(Int(mantissa)) : String(format: "%.1f", mantissa)
        let sign = "\(exponent)".replacingOccurrences(of: "-", with: "−")
        return m.replacingOccurrences(of: "-", with: "−") + "e" + sign
    }
}
