"""The decay clock and the output scale: two per-run quantities the paper does not use (issue 42).

- The decay clock (`decay_clock`): what AdamW's decoupled weight decay alone makes of a norm. While the gradient
  updates add little norm, the recorded weight norm *is* this clock, so a test of the norm then reads the optimizer's
  schedule, not what the network learns (grokkit.claims: parts that hold by construction).
- The output scale s_out (`output_scale`): the spread of the network's outputs on unseen images, in the targets'
  units. A ×8 initialization of a 12-layer net starts it near 10^5.7; it must come down to ~1 before the outputs can
  match one-hot targets.
"""
from __future__ import annotations

import math

import numpy as np

from .records import Run

# where a record's output scale comes from (`output_scale`), in words
SCALE_SOURCES = {"recorded": "measured at every log step", "spectra": "from the kept spectra, at every rank snapshot",
                 "test loss": "estimated from the test loss"}

def decay_clock(run: Run, key: str = "weight_norm") -> np.ndarray:
    """(log points,) what AdamW's decoupled weight decay alone makes of the norm `key` ("weight_norm" or
    "last_layer_norm"): its first logged value x (1 - lr γ)^step. Each step multiplies every parameter by
    (1 - lr γ) before the gradient update [AdamW, Loshchilov & Hutter 2019], so while the updates add little norm the
    recorded norm equals this clock, whatever the network learns."""
    c, h = run.config, run.history
    step = np.asarray(h["step"], dtype=float)
    return float(h[key][0]) * np.exp(step * math.log1p(-c.lr * c.weight_decay))


def clock_deviation(run: Run, until: float | None, key: str = "weight_norm") -> float | None:
    """The largest |norm / decay_clock - 1| over the logged steps up to `until` (None: None); a fraction."""
    if until is None or not len(run.history["step"]):
        return None
    step = np.asarray(run.history["step"])
    keep = step <= until
    with np.errstate(divide="ignore", invalid="ignore"):
        dev = np.abs(np.asarray(run.history[key], dtype=float)[keep] / decay_clock(run, key)[keep] - 1)
    return float(np.nanmax(dev)) if np.isfinite(dev).any() else None


def output_scale(run: Run) -> tuple[np.ndarray, np.ndarray, str]:
    """(steps, s_out, source): the output scale s_out, the square root of the largest eigenvalue of the covariance of
    the network's 10 outputs over the test set (metrics.output_scale), in output units (the one-hot targets' scale is
    1). Source "recorded": the record keeps it at every log step (runs trained since issue 42); "spectra": from the
    output layer's kept covariance spectrum, at every rank snapshot; "test loss": estimated as sqrt(test MSE) at every
    log step -- outputs on unseen images are not fitted, so while they dwarf the targets the test MSE is their mean
    square (`scale_agreement` says how close the estimate is where both exist)."""
    h = run.history
    if "output_scale" in h:
        return np.asarray(h["step"]), np.asarray(h["output_scale"], dtype=float), "recorded"
    if "spectrum_max" in h and len(h["rank_step"]):
        return np.asarray(h["rank_step"]), np.sqrt(np.asarray(h["spectrum_max"], dtype=float)[:, -1]), "spectra"
    return np.asarray(h["step"]), np.sqrt(np.asarray(h["test_loss"], dtype=float)), "test loss"


def scale_agreement(run: Run) -> dict | None:
    """How well sqrt(test MSE) estimates s_out on a record that has both (None otherwise): {"median_decades",
    "max_decades"}: |log10 estimate - log10 s_out| over the snapshots before s_out first reaches 1 (where the
    estimate is meant to hold: the outputs still dwarf the targets), in decades."""
    step, s, source = output_scale(run)
    if source == "test loss":
        return None
    h = run.history
    est = np.sqrt(np.interp(step, h["step"], np.asarray(h["test_loss"], dtype=float)))
    before = np.flatnonzero(s <= 1)
    keep = np.arange(len(s)) < (before[0] if len(before) else len(s))
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.abs(np.log10(est[keep]) - np.log10(s[keep]))
    d = d[np.isfinite(d)]
    return {"median_decades": float(np.median(d)), "max_decades": float(d.max())} if len(d) else None
