import Foundation

/// Zero-shot label sets drawn from the Scenes world: images of a single object, labelled by
/// its shape or by its colour, with class names in Chinese and English as the captions say them
/// (so a model pretrained on Scenes texts can be asked "a photo of a triangle" / "一张三角形的照片").
public enum ScenesZeroShot {
    public enum Attribute: String, CaseIterable, Sendable {
        case shape, color
    }

    /// Class names in caption words, in `SceneShape.allCases` / `SceneColor.allCases` order.
    public static func classNames(_ attribute: Attribute, language: String) -> [String] {
        switch (attribute, language) {
        case (.shape, "zh"): return SceneShape.allCases.map(SceneCaptioner.Chinese.shape)
        case (.shape, _): return SceneShape.allCases.map { SceneCaptioner.English.shape($0, plural: false) }
        case (.color, "zh"): return SceneColor.allCases.map { SceneCaptioner.Chinese.color($0) + "物体" }
        case (.color, _): return SceneColor.allCases.map { "\($0.rawValue) shape" }
        }
    }

    /// `count` single-object images (their own random stream of the corpus seed), each labelled
    /// by the object's shape or colour index.
    public static func samples(_ corpus: ScenesCorpus, attribute: Attribute, count: Int) -> [Sample] {
        (0..<count).map { index in
            var rng = SplitMix64(seed: corpus.seed, stream: "zeroshot", index: index)
            let scene = Scene.random(using: &rng, maxObjects: 1)
            let object = scene.objects[0]
            let label = attribute == .shape ? SceneShape.allCases.firstIndex(of: object.shape)! : SceneColor.allCases.firstIndex(of: object.color)!
            return Sample(id: "zeroshot-\(attribute.rawValue)-\(index)", image: .pixels(corpus.image(scene)), texts: [], label: label)
        }
    }
}
