"""Paper-exact metrics: accuracy and MSE, weight norms, per-layer feature rank, tunnel length, linear probes.

Each definition cites its source: the paper [DG] or the authors' code [DG-code] (tags: grokkit/config.py).
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
import torch.nn.functional as F

from .config import TUNNEL_THRESHOLD
from .rank import ROBUST_RTOL


@torch.no_grad()
def loss_and_accuracy(model, x, y, chunk: int = 10_000) -> tuple[float, float]:
    """MSE objective and accuracy over the *full* set (authors: full train subset and full test set).
    The objective is `nn.MSELoss()`: the mean over samples x 10 outputs of (output - one_hot)^2 [DG-code].
    (The authors' *logged* loss is MSELoss(reduction='sum')/N, i.e. 10x this.)"""
    sq, correct = 0.0, 0
    for i in range(0, len(x), chunk):
        out = model(x[i:i + chunk])
        target = F.one_hot(y[i:i + chunk], out.shape[1]).to(out.dtype)
        sq += float(((out - target) ** 2).sum(dtype=torch.float64))
        correct += int((out.argmax(1) == y[i:i + chunk]).sum())
    return sq / (len(x) * model.layers[-1].out_features), correct / len(x)


@torch.no_grad()
def weight_norms(model) -> tuple[float, float]:
    """(total, last layer): "the weight-norm, defined as the L2 norm of all model parameters" [DG p3-7];
    the authors' code sums weights *and* biases, and logs the last layer's norm beside it [DG p3-7, Fig 5]."""
    sq = [float((p.double() ** 2).sum()) for p in model.parameters()]
    last = [float((p.double() ** 2).sum()) for p in model.layers[-1].parameters()]
    return math.sqrt(sum(sq)), math.sqrt(sum(last))


@torch.no_grad()
def layer_norms(model) -> list[float]:
    """The L2 norm of each Linear layer's parameters (weight and bias), input layer first: a list of `depth`
    floats whose root sum of squares is weight_norms' total. Not in the paper, which logs the total and the last
    layer [DG p3-7]; kept so that where the norm moves between layers can be told (e.g. under a total-norm clamp)."""
    return [math.sqrt(sum(float((p.double() ** 2).sum()) for p in layer.parameters())) for layer in model.layers]


@torch.no_grad()
def output_scale(model, x, chunk: int = 10_000) -> float:
    """s_out: the square root of the largest eigenvalue of the covariance of the network's outputs over `x`
    (n x 10 outputs, features as variables, as covariance_spectrum), in output units. It is the output layer's
    top singular direction's spread: ~1 when the outputs vary on the scale of the one-hot targets; a ×8
    initialization of a 12-layer net starts it ~10^5.7 (not a quantity of the paper)."""
    out = torch.cat([model(x[i:i + chunk]) for i in range(0, len(x), chunk)]).double()
    cov = torch.cov(out.T)
    if not bool(torch.isfinite(cov).all()):
        return math.nan  # a diverged run (or outputs whose covariance overflows): the SVD would raise
    return math.sqrt(float(torch.linalg.svdvals(cov)[0]))


def covariance_spectrum(h: torch.Tensor) -> torch.Tensor:
    """Singular values (descending) of `torch.cov(H.T)`: the d x d mean-centred sample covariance of the
    n x d activations, features as variables (authors' `Rank` [DG-code: tunnel_methods.py], [DG p2-2]).
    ValueError when n < 2: a sample covariance needs at least 2 samples (with 1, torch.cov divides by n - 1 = 0)."""
    if h.ndim != 2 or h.shape[0] < 2:
        got = f"{h.shape[0]}" if h.ndim == 2 else f"a tensor of shape {tuple(h.shape)}"
        raise ValueError(f"feature rank: needs an n x d matrix of at least 2 samples (rows), got {got}")
    return torch.linalg.svdvals(torch.cov(h.T))


def paper_rank(sv: torch.Tensor, d: int, dtype=torch.float64) -> int:
    """`torch.linalg.matrix_rank(torch.cov(H.T))` with the default tolerance, from the spectrum:
    "the number of singular values above a certain threshold given a relative tolerance ε: σ=max(n,d)·ε",
    footnote: "the epsilon value of the dtype ... used Pytorch matrix_rank function" [DG p2-2].
    matrix_rank's default: count sv > sv_max * max(rows, cols) * eps; the covariance is d x d."""
    return int((sv > sv[0] * d * torch.finfo(dtype).eps).sum()) if len(sv) else 0


def robust_rank(sv: torch.Tensor, rtol: float = ROBUST_RTOL) -> int:
    """Rank at a stated relative tolerance: ours, a robustness check beside the paper's machine-precision one."""
    return int((sv > sv[0] * rtol).sum()) if len(sv) and sv[0] > 0 else 0


def effective_rank(sv: torch.Tensor) -> float:
    """Roy & Vetterli's effective rank exp(H(p)), p = sv / sum(sv): smooth, tolerance-free."""
    s = sv[sv > 0].double()
    if len(s) == 0:
        return 0.0
    p = s / s.sum()
    return float(torch.exp(-(p * p.log()).sum()))


def rank_of(h: torch.Tensor) -> tuple[int, int, float]:
    """(paper rank, robust rank, effective rank) of one n x d activation matrix (computed in float64)."""
    h = h.double()
    sv = covariance_spectrum(h)
    return paper_rank(sv, h.shape[1]), robust_rank(sv), effective_rank(sv)


def relative_spectrum(svs: list[torch.Tensor], width: int) -> tuple[np.ndarray, np.ndarray]:
    """The compact form a record keeps of one snapshot's covariance spectra (L layers): (rel, top) with
    rel (L, width) float32 = each layer's singular values divided by its largest, descending, NaN-padded past the
    layer's own width (the 10-unit output layer), and top (L,) float64 = the largest singular value. float32 keeps
    7 significant digits of every value above 1e-38 relative, so any relative tolerance from the paper's
    (width x float64 eps = 8.9e-14 at width 400) upwards can be applied later (`rank.rank_at`)."""
    rel = np.full((len(svs), width), np.nan, dtype=np.float32)
    top = np.zeros(len(svs))
    for i, sv in enumerate(svs):
        sv = sv.double().cpu().numpy()
        top[i] = sv[0] if len(sv) else 0.0
        rel[i, :len(sv)] = sv / top[i] if top[i] > 0 else 0.0
    return rel, top


class Snapshot(NamedTuple):
    """One rank snapshot, each over the L Linear layers: paper rank, robust rank (int), effective rank (float),
    linear-probe test accuracy (None without probes) and the kept spectra (`relative_spectrum`: (L, width) and
    (L,))."""
    rank: np.ndarray
    robust_rank: np.ndarray
    eff_rank: np.ndarray
    probe_acc: np.ndarray | None
    spectrum: np.ndarray
    spectrum_max: np.ndarray


def tunnel_length(ranks, threshold: int = TUNNEL_THRESHOLD, include_output: bool = True) -> int:
    """Number of layers whose rank is below `threshold` (300 in the paper). Whether the 10-d output layer
    (rank <= 10) counts is not stated (the d = 4 tunnel of 1 [DG Fig 3] suggests it); the book reports both counts."""
    r = np.asarray(ranks)
    if not include_output:
        r = r[:-1]
    return int((r < threshold).sum())


def _float64_copy(model):
    import copy

    if next(model.parameters()).dtype == torch.float64:
        return model
    return copy.deepcopy(model).double()


def linear_probes(h_train, y_train, h_test, y_test, seed: int, epochs: int = 30, n_classes: int = 10) -> np.ndarray:
    """Test accuracy of a linear head trained on each layer's features ([DG p2-2]; `LinearProbe`
    [DG-code: tunnel_methods.py]), for L layers of one feature width at once: h_train (N, L, d),
    h_test (M, L, d) -> (L,) accuracies.

    Protocol: the training subset's features are split 80/20 at random (the 20 % is held out and unused for
    selection); a head `nn.Linear(d, C)` with C = 10 (the authors' C is a quirk that equals N, see §2.3) is
    trained for 30 epochs, batch 512, Adam lr 1e-3, loss CE + 1e-3 * ||W||_F; the *last* epoch's head is
    evaluated on the full test set. The L heads are independent (Adam is elementwise and the loss is a sum
    of per-layer terms); batching them only removes Python overhead."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    n, L, d = h_train.shape
    dev, dt = h_train.device, h_train.dtype
    tr = torch.randperm(n, generator=g)[: int(0.8 * n)].to(dev)  # the probe's 80 % (no copy of the features)
    ys = y_train[tr]
    bound = 1 / math.sqrt(d)  # nn.Linear's default init, drawn from the probe's own generator
    w = ((torch.rand(L, d, n_classes, generator=g, dtype=torch.float64) * 2 - 1) * bound).to(dev, dt)
    b = ((torch.rand(L, 1, n_classes, generator=g, dtype=torch.float64) * 2 - 1) * bound).to(dev, dt)
    w.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.Adam([w, b], lr=1e-3)
    with torch.enable_grad():
        for _ in range(epochs):
            order = torch.randperm(len(ys), generator=g).to(dev)
            for i in range(0, len(ys), 512):
                idx = order[i:i + 512]
                xb = h_train[tr[idx]].transpose(0, 1)  # (n, L, d) layout: a batch gathers contiguous rows
                logits = torch.baddbmm(b, xb, w)  # (L, B, C)
                ce = F.cross_entropy(logits.reshape(-1, n_classes), ys[idx].repeat(L), reduction="none")
                loss = ce.view(L, -1).mean(1).sum() + 1e-3 * w.square().sum((1, 2)).sqrt().sum()
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
    with torch.no_grad():
        pred = torch.baddbmm(b, h_test.transpose(0, 1), w).argmax(-1)
        return (pred == y_test).double().mean(1).cpu().numpy()


PROBE_BUFFER_BYTES = 1 << 30  # features of one probe batch of layers (train + test, float64) stay under 1 GiB


def _stack_features(m64, x, ids):
    """The features of layers `ids` (one width) over x, written straight into one (n, len(ids), d) float64
    buffer: no intermediate copies, so peak memory is the buffer itself."""
    buf = None
    for i, h in enumerate(m64.features(x.double())):
        if i in ids:
            if buf is None:
                buf = h.new_empty((len(x), len(ids), h.shape[1]))
            buf[:, ids.index(i)] = h
        if i >= ids[-1]:
            break
    return buf


def _probe_batches(widths, n_rows: int):
    """Layers of one width are probed together (one batched head); a group whose features would pass
    PROBE_BUFFER_BYTES is split, so memory stays bounded at any N and depth (e.g. N = 60000, depth 24)."""
    out = []
    for d in sorted(set(widths)):
        ids = [i for i, w in enumerate(widths) if w == d]
        per = max(1, PROBE_BUFFER_BYTES // (n_rows * d * 8))
        out += [(d, k, ids[j:j + per]) for k, j in enumerate(range(0, len(ids), per))]
    return out


@torch.no_grad()
def snapshot(model, x_test, y_test=None, x_train=None, y_train=None, probe_seed: int | None = None,
             probe_epochs: int = 30):
    """One rank snapshot over `x_test` (and linear probes when `probe_seed` is given), in float64
    [DG p2-2]: a `Snapshot` (rank, robust_rank, eff_rank, probe_acc or None, spectrum, spectrum_max)."""
    m64 = _float64_copy(model)
    svs, widths = [], []
    for h in m64.features(x_test.double()):  # one layer at a time
        svs.append(covariance_spectrum(h))
        widths.append(h.shape[1])
    cols = [np.array([paper_rank(sv, d) for sv, d in zip(svs, widths)]), np.array([robust_rank(sv) for sv in svs]),
            np.array([effective_rank(sv) for sv in svs])]
    spectra = relative_spectrum(svs, max(widths))
    if probe_seed is None:
        return Snapshot(*cols, None, *spectra)
    widths = [layer.out_features for layer in m64.layers]
    probes = np.zeros(len(widths))
    for d, k, ids in _probe_batches(widths, len(x_train) + len(x_test)):
        probes[ids] = linear_probes(_stack_features(m64, x_train, ids), y_train,
                                    _stack_features(m64, x_test, ids), y_test,
                                    seed=probe_seed + d + 1000 * k, epochs=probe_epochs)
    return Snapshot(*cols, probes, *spectra)
