"""The perturbation every import fixture script applies to its freshly built model, so that a
transposed, swapped or skipped tensor cannot hide behind an initial value (layer-norm weights of
1, zero biases, zero-initialised batch-norm weights)."""
import torch


def perturb(model):
    """Adds noise to every parameter: N(0, 0.02) to weights, N(0, 0.1) to 1-D tensors (biases,
    batch- and layer-norm weights and biases, class embeddings), a fixed shift of 0.3 to 0-D ones
    (the logit scale)."""
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.dim() == 0:
                p.add_(0.3)
            elif p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))
            else:
                p.add_(0.02 * torch.randn_like(p))
