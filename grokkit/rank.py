"""The rank definitions the results layer reads from a record's kept covariance spectra (numpy only, so reading
records needs no torch): the paper's machine-precision tolerance, the tolerance-robust one, and the rank at any
relative tolerance. grokkit.metrics measures the spectra on a model and reuses these definitions."""
from __future__ import annotations

import numpy as np

ROBUST_RTOL = 1e-3  # the tolerance-robust rank: singular values of the covariance above 1e-3 x the largest


def paper_rtol(width: int) -> float:
    """The paper's rank tolerance relative to the largest singular value: width x float64 machine epsilon
    (`matrix_rank`'s default on a width x width covariance [DG p2-2]); 400 x 2.2e-16 = 8.9e-14 at width 400."""
    return width * float(np.finfo(np.float64).eps)


def rank_at(spectrum: np.ndarray, rtol) -> np.ndarray:
    """Rank at relative tolerance `rtol` from kept spectra (any leading shape, last axis the relative singular
    values of `metrics.relative_spectrum`): the number of singular values above rtol x the largest. `rtol` is one
    number or an array broadcast over the leading axes (e.g. `paper_rtol` per layer width)."""
    with np.errstate(invalid="ignore"):
        return (spectrum > np.asarray(rtol, dtype=np.float64)[..., None]).sum(-1)
