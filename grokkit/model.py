"""The paper's MLP: `depth` Linear layers of width `width`, ReLU between them, no output activation.

Authors' `get_mlp` [DG-code]: Flatten, 784->w (+ReLU), (depth-2) x w->w (+ReLU), w->10; every layer has a
bias; PyTorch's default init, then `p.data = initialization_scale * p.data` for *every* parameter, so
"α=w/w0, where w0 and w are the weight-norm of the network before and after rescaling" [DG p2-1 footnote].
"""
from __future__ import annotations

import torch
from torch import nn

from .config import check

N_IN, N_OUT = 784, 10


class MLP(nn.Module):
    def __init__(self, depth: int, width: int, dtype=torch.float32, device=None):
        super().__init__()
        dims = [N_IN] + [width] * (depth - 1) + [N_OUT]
        self.layers = nn.ModuleList(nn.Linear(a, b, dtype=dtype, device=device) for a, b in zip(dims[:-1], dims[1:]))

    def forward(self, x):
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < last:
                x = torch.relu(x)
        return x

    def features(self, x):
        """Every Linear layer's output -- the pre-activation, what the authors' forward hooks on
        nn.Linear capture [DG-code: tunnel_methods.py] -- as a generator, one layer at a time (bounded memory)."""
        last = len(self.layers) - 1
        for i, layer in enumerate(self.layers):
            h = layer(x)
            yield h
            x = torch.relu(h) if i < last else h


def make_mlp(depth: int, width: int = 400, alpha: float = 8.0, seed: int = 0, dtype=torch.float32, device=None) -> MLP:
    """PyTorch's default init drawn in float64 from `seed` (so every α and dtype share one base init),
    then every parameter, biases too, multiplied by α, then cast to `dtype`."""
    check("depth", depth)  # RunConfig's bounds (ValueError naming the field)
    check("width", width)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = MLP(depth, width, dtype=torch.float64)
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(alpha)  # "we scale the standard initialization ... by a scaling factor α" [DG p2-1]
    return model.to(device=device, dtype=dtype)
