import Foundation
import Torch

/// What an image tower gives for a batch of images.
public struct ImageTowerOutput {
    /// One vector per image [B, width]: what the dual encoder projects to its contrastive feature
    /// (ViT: the normalised class token; EfficientNet: the average-pooled head features).
    public let pooled: Tensor
    /// Token states [B, 1 + tokens, width], what cross encoders attend to: a class or pooled token
    /// first, then one per patch or feature-map position, row by row.
    public let states: Tensor
}

/// An image encoder a `DualEncoder` (and so R2D2) can use as its image tower: `VisionTransformer`
/// (R2D2, CLIP) or `EfficientNet` (ALIGN). The model configuration's `vision` section chooses one
/// (`ImageTowerConfiguration`).
public protocol ImageTower: Module, BlockStack {
    /// Width of the pooled vector and of every token state.
    var width: Int { get }
    /// The side of the square images the tower is configured for.
    var imageSize: Int { get }
    /// Rows and columns of the token grid for images of `height` × `width` pixels: the tokens
    /// after the first, and the patches a `patchMask` addresses.
    func patchGrid(height: Int, width: Int) -> (rows: Int, columns: Int)
    /// - Parameters:
    ///   - images: float [B, C, H, W].
    ///   - patchMask: boolean [B, rows · columns] of `patchGrid(height: H, width: W)`, true where a
    ///     patch is hidden from the tower (FgD's student sees a masked image).
    func encode(_ images: Tensor, patchMask: Tensor?) throws -> ImageTowerOutput
    /// Loads a pretrained checkpoint of this tower's kind into it, strictly: every tower key must
    /// be there; the checkpoint keys that are not the tower's (a classifier, a whole CLIP model's
    /// text side) are listed in the summary.
    func loadInitialWeights(from url: URL) throws -> PretrainedLoadSummary
}

extension ImageTower {
    public func encode(_ images: Tensor) throws -> ImageTowerOutput { try encode(images, patchMask: nil) }

    /// [B, 1, H, W]: 0 at the pixels of masked cells, 1 elsewhere, for towers that mask an image
    /// by its pixels (EfficientNet, ResNet); pixel row y lies in cell row ⌊y · rows / H⌋ (likewise
    /// columns) of `patchGrid`.
    func visiblePixels(_ patchMask: Tensor, images: Tensor) throws -> Tensor {
        let (batch, height, width) = (images.size(0), images.size(2), images.size(3))
        let grid = patchGrid(height: height, width: width)
        guard patchMask.shape == [batch, grid.rows * grid.columns] else {
            throw ModelError.invalidInput(name: "patchMask", reason: "expected [\(batch), \(grid.rows * grid.columns)] (a \(grid.rows)×\(grid.columns) grid), got \(patchMask.shape)")
        }
        var cells: [Int64] = []
        cells.reserveCapacity(height * width)
        for y in 0..<height {
            for x in 0..<width { cells.append(Int64(y * grid.rows / height * grid.columns + x * grid.columns / width)) }
        }
        let index = try Tensor(cells, shape: [height * width]).to(device: patchMask.device)
        return try (patchMask.indexSelect(dim: 1, index) .== 0).to(images.dtype).reshaped([batch, 1, height, width])
    }
}
