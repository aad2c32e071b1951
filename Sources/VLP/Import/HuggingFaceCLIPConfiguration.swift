import Foundation

/// The two JSON files of a Hugging Face `CLIPModel` directory that an import reads, decoded with
/// transformers' defaults for the keys `save_pretrained` leaves out (it writes only values that
/// differ from `CLIPTextConfig` / `CLIPVisionConfig`'s defaults, which are OpenAI's ViT-B/32).
struct HuggingFaceCLIPConfiguration: Decodable {
    /// `config.json`'s `text_config`.
    struct Text: Decodable {
        var vocabularySize = 49408, hiddenSize = 512, intermediateSize = 2048, layers = 12, heads = 8, maxPositions = 77
        var hiddenActivation = "quick_gelu", layerNormEps = 1e-5
        /// 2 in configs written before transformers' PR #24773 (pool at the largest id), otherwise
        /// the id pooled at (its first occurrence).
        var eosTokenID = 49407

        enum CodingKeys: String, CodingKey {
            case vocabularySize = "vocab_size", hiddenSize = "hidden_size", intermediateSize = "intermediate_size"
            case layers = "num_hidden_layers", heads = "num_attention_heads", maxPositions = "max_position_embeddings"
            case hiddenActivation = "hidden_act", layerNormEps = "layer_norm_eps", eosTokenID = "eos_token_id"
        }

        init() {}

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            vocabularySize = try c.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? vocabularySize
            hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
            intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
            layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
            heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? heads
            maxPositions = try c.decodeIfPresent(Int.self, forKey: .maxPositions) ?? maxPositions
            hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? hiddenActivation
            layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
            eosTokenID = try c.decodeIfPresent(Int.self, forKey: .eosTokenID) ?? eosTokenID
        }
    }

    /// `config.json`'s `vision_config`.
    struct Vision: Decodable {
        var hiddenSize = 768, intermediateSize = 3072, layers = 12, heads = 12, channels = 3, imageSize = 224, patchSize = 32
        var hiddenActivation = "quick_gelu", layerNormEps = 1e-5

        enum CodingKeys: String, CodingKey {
            case hiddenSize = "hidden_size", intermediateSize = "intermediate_size", layers = "num_hidden_layers"
            case heads = "num_attention_heads", channels = "num_channels", imageSize = "image_size", patchSize = "patch_size"
            case hiddenActivation = "hidden_act", layerNormEps = "layer_norm_eps"
        }

        init() {}

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            hiddenSize = try c.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? hiddenSize
            intermediateSize = try c.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? intermediateSize
            layers = try c.decodeIfPresent(Int.self, forKey: .layers) ?? layers
            heads = try c.decodeIfPresent(Int.self, forKey: .heads) ?? heads
            channels = try c.decodeIfPresent(Int.self, forKey: .channels) ?? channels
            imageSize = try c.decodeIfPresent(Int.self, forKey: .imageSize) ?? imageSize
            patchSize = try c.decodeIfPresent(Int.self, forKey: .patchSize) ?? patchSize
            hiddenActivation = try c.decodeIfPresent(String.self, forKey: .hiddenActivation) ?? hiddenActivation
            layerNormEps = try c.decodeIfPresent(Double.self, forKey: .layerNormEps) ?? layerNormEps
        }
    }

    var modelType: String
    var text: Text
    var vision: Vision
    var projectionDim: Int

    enum CodingKeys: String, CodingKey {
        case modelType = "model_type", text = "text_config", vision = "vision_config", projectionDim = "projection_dim"
    }

    init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        modelType = try c.decodeIfPresent(String.self, forKey: .modelType) ?? ""
        text = try c.decodeIfPresent(Text.self, forKey: .text) ?? Text()
        vision = try c.decodeIfPresent(Vision.self, forKey: .vision) ?? Vision()
        projectionDim = try c.decodeIfPresent(Int.self, forKey: .projectionDim) ?? 512
    }

    /// `preprocessor_config.json` (`CLIPImageProcessor`, `ChineseCLIPImageProcessor`).
    struct ImageProcessor: Decodable {
        /// `size` as written.
        var size: SizeField?
        /// `size`: `{"shortest_edge": N}` or a bare N (older files), the side the shortest edge is resized to.
        var shortestEdge: Int?
        /// `crop_size`: `{"height": H, "width": W}` or a bare N.
        var cropHeight: Int?, cropWidth: Int?
        var doResize: Bool, doCenterCrop: Bool, doNormalize: Bool, doRescale: Bool
        var rescaleFactor: Double
        /// PIL's filter numbers: 2 bilinear, 3 bicubic.
        var resample: Int
        var mean: [Float], std: [Float]

        enum CodingKeys: String, CodingKey {
            case size, cropSize = "crop_size", doResize = "do_resize", doCenterCrop = "do_center_crop", doNormalize = "do_normalize"
            case doRescale = "do_rescale", rescaleFactor = "rescale_factor", resample, mean = "image_mean", std = "image_std"
        }

        /// A size as image processors write it: one number, or named sides.
        enum SizeField: Decodable, Equatable {
            case side(Int)
            case named([String: Int])

            init(from decoder: Decoder) throws {
                let c = try decoder.singleValueContainer()
                do { self = .side(try c.decode(Int.self)) } catch DecodingError.typeMismatch {
                    self = .named(try c.decode([String: Int].self))
                }
            }
        }

        /// The resampling filter and normalisation, after checking the ÷255 rescale; errors name `source`.
        func pixelSteps(source: String) throws -> (ModelPreprocessing.Image.Interpolation, Normalization) {
            func fail(_ reason: String) -> ModelError { .invalidConfiguration(source: source, reason: reason) }
            guard abs(rescaleFactor - 1 / 255) < 1e-9 else { throw fail("rescale_factor \(rescaleFactor) is not 1/255") }
            let interpolation: ModelPreprocessing.Image.Interpolation
            switch resample {
            case 2: interpolation = .bilinear
            case 3: interpolation = .bicubic
            default: throw fail("resample \(resample) is not supported (2 bilinear, 3 bicubic)")
            }
            do { return (interpolation, try Normalization(mean: mean, std: std)) } catch { throw fail("image_mean / image_std: \(error)") }
        }

        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            size = try c.decodeIfPresent(SizeField.self, forKey: .size)
            switch size {
            case .side(let side)?: shortestEdge = side
            case .named(let sides)?: shortestEdge = sides["shortest_edge"]
            case nil: shortestEdge = nil
            }
            switch try c.decodeIfPresent(SizeField.self, forKey: .cropSize) {
            case .side(let side)?: (cropHeight, cropWidth) = (side, side)
            case .named(let sides)?: (cropHeight, cropWidth) = (sides["height"], sides["width"])
            case nil: (cropHeight, cropWidth) = (nil, nil)
            }
            doResize = try c.decodeIfPresent(Bool.self, forKey: .doResize) ?? true
            doCenterCrop = try c.decodeIfPresent(Bool.self, forKey: .doCenterCrop) ?? true
            doNormalize = try c.decodeIfPresent(Bool.self, forKey: .doNormalize) ?? true
            doRescale = try c.decodeIfPresent(Bool.self, forKey: .doRescale) ?? true
            rescaleFactor = try c.decodeIfPresent(Double.self, forKey: .rescaleFactor) ?? 1 / 255
            resample = try c.decodeIfPresent(Int.self, forKey: .resample) ?? 3
            mean = try c.decodeIfPresent([Float].self, forKey: .mean) ?? Normalization.clip.mean
            std = try c.decodeIfPresent([Float].self, forKey: .std) ?? Normalization.clip.std
        }
    }

    /// Decodes `file` as `type`, an error naming the file otherwise.
    static func read<T: Decodable>(_ type: T.Type, from file: URL) throws -> T {
        let data: Data
        do { data = try Data(contentsOf: file) } catch {
            throw ModelError.unreadableFile(path: file.path, reason: error.localizedDescription)
        }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw ModelError.invalidConfiguration(source: file.path, reason: "\(error)")
        }
    }
}
