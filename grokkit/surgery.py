"""One-off interventions on a network at a fixed step (issue 44, the second round; grokkit.round_two reads them).

    applied = surgery.apply(config, model, step, images)   # None, or the manipulation check's facts

- The output-scale reset (`RunConfig.scale_reset_step`): divide the output layer's weight and bias once by the output
  scale s_out (metrics.output_scale) measured on the held-out images or on the training images, so that s_out there is
  1, the targets' scale. No hidden layer changes, so neither do the features nor their ranks.
- The rank cut (`RunConfig.rank_cut_step`): replace each hidden layer's weight matrix (every Linear layer but the
  output layer) by its best rank-r approximation (truncated SVD, Eckart-Young), rescaled to its former Frobenius
  norm, so the total weight norm is unchanged up to rounding.

Each returns, for the record's meta, what it moved and by how much (the manipulation check, never a prediction):
s_out on the held-out, training and test images and the mean hidden-layer rank of the test features (paper-exact
and tolerance-robust), before and after.
"""
from __future__ import annotations

import numpy as np
import torch

from .config import HELDOUT, RunConfig
from .data import mnist_arrays
from .metrics import output_scale, snapshot


def heldout_images(device=None, dtype=torch.float32) -> torch.Tensor:
    """(5000, 784): MNIST training images HELDOUT[0]..HELDOUT[1] - 1, pixels / 255, as load_mnist gives them; no
    configuration trains on them (n_train <= 7000 in the paper) and they are not the test set."""
    x = mnist_arrays()[0][HELDOUT[0]:HELDOUT[1]]
    return (torch.from_numpy(x.reshape(len(x), -1).astype(np.float64)) / 255.0).to(device=device, dtype=dtype)


@torch.no_grad()
def reset_output_scale(model, x) -> float:
    """Divide the output layer's weight and bias by s_out over `x`; returns the divisor (s_out before)."""
    model.eval()
    s = output_scale(model, x)
    model.train()
    for p in model.layers[-1].parameters():
        p.div_(s)
    return s


@torch.no_grad()
def cut_rank(model, r: int) -> None:
    """Every hidden layer's weight matrix to its best rank-r approximation, rescaled to keep its Frobenius norm
    (computed in float64, written back in the layer's dtype)."""
    for layer in model.layers[:-1]:
        w = layer.weight.double()
        u, sv, vh = torch.linalg.svd(w, full_matrices=False)
        cut = (u[:, :r] * sv[:r]) @ vh[:r]
        layer.weight.copy_(cut * (torch.linalg.matrix_norm(w) / torch.linalg.matrix_norm(cut)))


def _state(model, images: dict, ranks: bool) -> dict:
    model.eval()
    out = {f"output_scale_{k}": output_scale(model, x) for k, x in images.items()}
    model.train()
    if ranks:
        snap = snapshot(model, images["test"])
        out["mean_rank"] = float(np.mean(snap.rank[:-1]))  # the hidden layers: every layer's but the output's
        out["mean_robust_rank"] = float(np.mean(snap.robust_rank[:-1]))
    return out


def apply(config: RunConfig, model, step: int, images: dict) -> dict | None:
    """At step `config.scale_reset_step` or `config.rank_cut_step`, intervene on `model` and return {"step", "what",
    "before", "after", ...}: the manipulation check; None at every other step. `images`: {"heldout", "train", "test"}
    input tensors on the model's device and dtype."""
    what = []
    if config.scale_reset_step and step == config.scale_reset_step:
        what.append("scale_reset")
    if config.rank_cut_step and step == config.rank_cut_step:
        what.append("rank_cut")
    if not what:
        return None
    ranks = "rank_cut" in what
    before = _state(model, images, ranks)
    out = {"step": step, "what": what}
    if "scale_reset" in what:
        out["divisor"] = reset_output_scale(model, images[config.scale_reset_on])
    if "rank_cut" in what:
        cut_rank(model, config.rank_cut_rank)
    out.update(before=before, after=_state(model, images, ranks))
    return out
