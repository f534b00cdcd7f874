"""Beyond the paper (issue 26): a rank penalty on the hidden layers' features, taken as an autograd step, and a clamp
that rescales every parameter after each step to hold the total weight norm (grokkit.train.make_step picks the
step a config asks for)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .config import RunConfig
from .metrics import weight_norms
from .model import make_mlp

SERIAL_WIDTH = 128  # a rank-penalised run narrower than this takes its steps on one CPU thread (penalised_step_fn)


# ---- interventions beyond the paper (issue 26): a rank penalty (an autograd step) and a norm clamp ------------------
def rank_penalty(feats, kind: str) -> torch.Tensor:
    """The rank penalty of a batch, a 0-d tensor in the features' dtype: the mean over the hidden layers of one value
    per layer, from the eigenvalues of the centred batch Gram matrix Hc Hcᵀ (B x B, float64), whose non-zero
    eigenvalues are (B - 1) x those of the feature covariance cov(Hᵀ) the rank is read from [DG p2-2]. A layer
    narrower than the batch (width < B: the tiny runs of the tests and the smoke-scale stand-ins, never the paper's
    width 400 at batch 200) takes them from Hcᵀ Hc (width x width) instead, which has the same non-zero eigenvalues:
    a smaller eigendecomposition (a d = 12 stand-in takes 3300 of them: 32 x 32 instead of 100 x 100).
    - "nuclear_over_frobenius": ||Hc||_* / ||Hc||_F = Σ sqrt(eig) / sqrt(Σ eig), between 1 and sqrt(rank): lowering
      it lowers the rank;
    - "neg_spectral_entropy": Σ p log p with p = eig / Σ eig, minus the entropy of the covariance spectrum (nats):
      lowering it spreads the spectrum out, holding the rank up.
    Both are unchanged when the features are rescaled, so neither pulls on the weight norm. Eigenvalues at or below
    1e-12 of the largest count as 0 (no gradient through them): the Gram matrix of B rows, centred, has at least one
    zero eigenvalue (the narrower matrix, one per dead or dependent unit), which float64 rounding leaves at ~1e-16 of
    the largest. feats: the hidden layers' post-ReLU features, each (B, width). Raises ValueError on an unknown kind."""
    if kind not in ("nuclear_over_frobenius", "neg_spectral_entropy"):
        raise ValueError(f"rank_penalty_kind: no penalty {kind!r}")
    tiny = torch.finfo(torch.float64).tiny
    vals = []
    for h in feats:
        hc = h.double() - h.double().mean(0)
        gram = hc.T @ hc if hc.shape[1] < hc.shape[0] else hc @ hc.T  # the smaller side; same non-zero eigenvalues
        ev = torch.linalg.eigvalsh(gram)  # ascending; its backward is V diag(dL/d eig) Vᵀ (no eigenvector term)
        total = ev.sum().clamp_min(tiny)
        keep = ev > torch.clamp_min(ev[-1].detach() * 1e-12, tiny)  # the rest is rounding noise around 0
        safe = torch.where(keep, ev, 1.0)  # the double where: no inf/NaN gradient through a dropped eigenvalue
        if kind == "nuclear_over_frobenius":
            vals.append(torch.where(keep, safe.sqrt(), 0.0).sum() / total.sqrt())
        else:
            p = safe / total
            vals.append(torch.where(keep, p * p.log(), 0.0).sum())
    return torch.stack(vals).mean().to(feats[0].dtype)


def penalised_step_fn(model, opt, x_train: torch.Tensor, targets: torch.Tensor, kind: str, lam: float,
                       scale: str = "loss"):
    """The training step of a run with a rank penalty, step(idx) -> the batch loss (MSE + λ x penalty, 0-d tensor;
    with `scale` "gradient", the batch MSE alone: that penalty is a pull, with no loss value of its own).

    The same maths as `_step_fn` -- Linear layers, ReLU, nn.MSELoss (mean) against the one-hot targets, the fused
    AdamW of train()'s optimizer -- written with autograd, because the penalty's gradient goes through an eigenvalue
    decomposition; with kind "none" (or λ = 0) it follows `_step_fn` bit for bit (tests/test_interventions.py). The
    penalty (`rank_penalty`) reads the hidden layers' post-ReLU features of the batch. With `scale` "gradient" the
    step takes the MSE's and the penalty's gradients apart (two backward passes through one forward) and adds the
    penalty's rescaled by c = λ ||∇MSE|| / ||∇penalty|| (norms over all parameters): its pull is λ times the fit's
    at every step, whatever the size of the MSE (issue 26's second round of pilots). On a CPU, a penalised step of
    a run narrower than SERIAL_WIDTH (the tests' tiny runs, the smoke-scale stand-ins; never the paper's width 400)
    runs on one thread: its many small float64 products and eigendecompositions cost more in hand-offs between
    threads than in arithmetic, and far more when the other cores are busy."""
    last = len(model.layers) - 1
    penalised = kind != "none" and bool(lam)
    params = list(model.parameters())
    hidden = [p for layer in model.layers[:last] for p in layer.parameters()]
    serial = penalised and x_train.device.type == "cpu" and model.layers[0].out_features < SERIAL_WIDTH

    def step(idx):
        if not serial:
            return _step(idx)
        threads = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return _step(idx)
        finally:
            torch.set_num_threads(threads)

    def _step(idx):
        x, y = x_train[idx], targets[idx]
        feats = []
        a = x
        for i, layer in enumerate(model.layers):
            a = F.linear(a, layer.weight, layer.bias)
            if i < last:
                a = torch.relu(a)
                feats.append(a)
        loss = F.mse_loss(a, y)
        opt.zero_grad(set_to_none=True)
        if penalised and scale == "gradient":
            pen = rank_penalty(feats, kind)
            fit = torch.autograd.grad(loss, params, retain_graph=True)
            pull = torch.autograd.grad(pen, hidden)  # the output layer's parameters do not reach the penalty
            pn = total_norm(pull)  # 0 when no feature moves the penalty (all units dead): then there is no pull
            c = torch.where(pn > 0, lam * total_norm(fit) / torch.where(pn > 0, pn, 1.0), 0.0)
            for p, g in zip(params, fit):
                p.grad = g
            for p, g in zip(hidden, pull):
                p.grad.add_(g * c.to(g.dtype))
            opt.step()
            return loss.detach()
        if penalised:
            loss = loss + lam * rank_penalty(feats, kind)
        loss.backward()
        opt.step()
        return loss.detach()

    return step


def total_norm(params) -> torch.Tensor:
    """The total L2 norm of `params` (weights and biases, as metrics.weight_norms), a float64 0-d tensor on their
    device (no host sync)."""
    return torch.linalg.vector_norm(torch.stack([torch.linalg.vector_norm(p, dtype=torch.float64) for p in params]))


def clamp_fn(model, target: float):
    """clamp() rescales every parameter (weights and biases) by one factor so that the total weight norm equals
    `target` (float64 arithmetic for the factor; the parameters keep their dtype, so the norm holds to its
    rounding). The optimizer's state is left as it is."""
    params = list(model.parameters())

    @torch.no_grad()
    def clamp():
        torch._foreach_mul_(params, (target / total_norm(params)).to(params[0].dtype))

    return clamp


def clamp_target(config: RunConfig, model=None) -> float:
    """The norm a clamped run is held at: the number of `norm_clamp`, or for "init" the total weight norm of the
    run's initialization (make_mlp of its depth, width, α and seed; `model` is not read: a resumed run's weights
    are not its init)."""
    if config.norm_clamp != "init":
        return float(config.norm_clamp)
    init = make_mlp(config.depth, config.width, config.alpha, config.seed, dtype=getattr(torch, config.dtype))
    return weight_norms(init)[0]
