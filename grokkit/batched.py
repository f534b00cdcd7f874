"""Batched training: M runs of one depth trained at once, each layer's weights stacked as (M, in, out) and
multiplied with torch.baddbmm, writing the same records as M calls of `grokkit.train`.

What a run is does not change [DG-code]: the α-scaled default init of `make_mlp`, `nn.MSELoss()` against
one-hot targets, AdamW (decoupled decay on all parameters, betas (0.9, 0.999), eps 1e-8), batch 200 from
the first N images reshuffled every epoch (`train.epoch_order`), and the evaluation schedule. The runs of a
batch may differ in seed, weight decay γ, α, lr and N; they share depth, width, batch size, steps, dtype,
device and the schedule. The M runs are independent: the loss is the sum of the runs' own mean MSEs, so
d(loss)/d(run m's weights) is exactly run m's single-run gradient, and the AdamW update is elementwise.

Differences from `train`: a batch checkpoints and resumes as a whole (`checkpoint_path`), and a run that diverges keeps
being trained inside the stack (its NaN/inf stay in its own slice: baddbmm, the per-run loss terms and
AdamW never mix runs) while its history stops at the step it was found, as in `train`. The batch stops
early only when every run has diverged. `meta["wall_time_s"]` is the wall time of the whole batch.
The step runs eagerly by default. With cuda_graph=True the fixed-shape step (gather, forward, backward,
AdamW) is captured once in a CUDA graph and replayed -- but only after `graph_self_test` has shown that N graphed
steps reproduce N eager steps from the same state (GRAPH_RTOL); on a mismatch or any error it falls back to eager
with a one-line warning. Each run's meta["execution"] records which step ran.
"""
from __future__ import annotations

import hashlib
import math
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

from .config import RunConfig, resolve_device
from .data import load_mnist
from .folders import writable
from .model import make_mlp
from .records import Run
from .train import NAN_CHECK_EVERY, RunLog, _load_checkpoint, _save_checkpoint, epoch_order, progress_bar, set_precision

BETAS, EPS = (0.9, 0.999), 1e-8  # torch.optim.AdamW's defaults, as in the authors' code [DG-code]
PLAN_STEPS = 1000                # batch indices are planned this many steps at a time
# fields the runs of one batch share -> the value compared (the resolved schedule: 0 and its default agree)
SHARED = {"depth": "depth", "width": "width", "batch_size": "batch_size", "steps": "steps", "dtype": "dtype",
          "device": "device", "log_every": "log_period", "rank_every": "rank_period", "probe_every": "probe_period",
          "probe_epochs": "probe_epochs", "n_test": "n_test"}


def check_configs(configs) -> None:
    """ValueError naming the first field the runs of one batch do not share, or the first intervention field
    (RunConfig.interventions: norm_clamp, rank_penalty, rank_penalty_kind, rank_penalty_scale) not at its
    default: this trainer does not implement them."""
    if not configs or not all(isinstance(c, RunConfig) for c in configs):
        raise ValueError("configs: need a non-empty list of RunConfig")
    for c in configs:
        for f, v in c.interventions.items():  # issue 26's norm clamp and rank penalties: grokkit.train only
            raise ValueError(f"{f}: the batched trainer does not implement the interventions, got {f}={v!r} "
                             f"({c.name}); train this run with grokkit.train")
    for f, attr in SHARED.items():
        vals = sorted({str(getattr(c, attr)) for c in configs})
        if len(vals) > 1:
            raise ValueError(f"{f}: the runs of one batch must share {f}, got {vals}; "
                             f"they may differ only in seed, weight_decay, alpha, lr and n_train")


def batch_key(config: RunConfig) -> tuple:
    """The fields a batch shares (SHARED): configs with equal keys can train together."""
    return tuple(str(getattr(config, attr)) for attr in SHARED.values())


def group_batches(configs) -> list[list[RunConfig]]:
    """The configs split into batches of equal `batch_key` (e.g. all runs of one depth and dtype), each in the
    given order, batches ordered by their first config."""
    groups: dict[tuple, list] = {}
    for c in configs:
        groups.setdefault(batch_key(c), []).append(c)
    return list(groups.values())


# ---- stacked model --------------------------------------------------------------------------------
def stack_params(configs, dtype, device) -> list[torch.Tensor]:
    """[W0, b0, W1, b1, ...]: W (M, in, out) and b (M, 1, out), run m's slice copied from
    `make_mlp(depth, width, α, seed)` -- the same α-scaled default init as its single run [DG p2-1]."""
    c = configs[0]
    models = [make_mlp(c.depth, c.width, k.alpha, k.seed, dtype=dtype) for k in configs]
    params = []
    for i in range(c.depth):
        params.append(torch.stack([m.layers[i].weight.detach().T for m in models]))   # (M, in, out)
        params.append(torch.stack([m.layers[i].bias.detach()[None] for m in models]))  # (M, 1, out)
    return [p.to(device).contiguous().requires_grad_(True) for p in params]


def forward(params, x):
    """x (M, B, 784) -> (M, B, 10): Linear layers with ReLU between, none on the output [DG-code]."""
    last = len(params) // 2 - 1
    for i in range(last + 1):
        x = torch.baddbmm(params[2 * i + 1], x, params[2 * i])  # b + x @ W, one matmul per run
        if i < last:
            x = torch.relu(x)
    return x


def unstack(params, m, model):
    """Copy run m's slice into `model` (a grokkit MLP), for the float64 rank snapshot and probes."""
    with torch.no_grad():
        for i, layer in enumerate(model.layers):
            layer.weight.copy_(params[2 * i][m].T)
            layer.bias.copy_(params[2 * i + 1][m, 0])
    return model


# ---- batches ---------------------------------------------------------------------------------------
def run_batches(cfg: RunConfig, s0: int, k: int):
    """Indices (k, B) into run's first N images for steps s0..s0+k-1, exactly train.py's batches, and
    a (k, B) mask: when B does not divide N the epoch's last batch is short (DataLoader without
    drop_last); it is padded with index 0 and masked out of the loss."""
    n, bs = cfg.n_train, cfg.batch_size
    per = math.ceil(n / bs)
    e0, e1 = s0 // per, (s0 + k - 1) // per
    orders = torch.cat([F.pad(epoch_order(cfg.seed, e, n), (0, per * bs - n)) for e in range(e0, e1 + 1)])
    valid = (torch.arange(per * bs) < n).repeat(e1 - e0 + 1)
    first = s0 - e0 * per
    return orders.view(-1, bs)[first:first + k], valid.view(-1, bs)[first:first + k]


def plan(configs, s0: int, k: int, dtype, device):
    """Steps s0..s0+k-1, on `device`: (k, M, B) indices; (k, M, B, 1) loss weights 1/(rows·10) (each run's
    nn.MSELoss mean, 0 on padding); AdamW's per-run step size lr/(1-β1^t), (k, M, 1, 1), and the shared
    sqrt(1-β2^t), (k,), for t = s+1, computed in double as torch.optim.AdamW does."""
    idx, valid = zip(*(run_batches(c, s0, k) for c in configs))
    idx, valid = torch.stack(idx, 1), torch.stack(valid, 1).double()
    w = (valid / (valid.sum(-1, keepdim=True) * 10))[..., None]
    t = range(s0 + 1, s0 + k + 1)
    step_size = torch.tensor([[c.lr / (1 - BETAS[0] ** i) for c in configs] for i in t], dtype=torch.float64)
    bc2_sqrt = torch.tensor([math.sqrt(1 - BETAS[1] ** i) for i in t], dtype=torch.float64)
    step_size = step_size.view(k, -1, 1, 1)
    return idx.to(device), *(a.to(device=device, dtype=dtype) for a in (w, step_size, bc2_sqrt))


# ---- one training step -----------------------------------------------------------------------------
def train_step(params, exp_avg, exp_avg_sq, x_all, t_all, idx, w, decay, step_size, bc2_sqrt):
    """Forward, backward and AdamW for all M runs; returns the (M,) per-run losses of this batch.

    AdamW by hand (one param group per run is impossible on stacked tensors), torch's formula
    (torch/optim/adam.py, decoupled_weight_decay=True) with lr and γ per run: p *= 1 - lr·γ, then Adam
    with bias correction. It equals torch's reference AdamW bit for bit; train.py's fused CPU kernel
    rounds differently by ≤ 1 ulp per step."""
    out = forward(params, x_all[idx])
    losses = (w * (out - t_all[idx]).square()).sum((1, 2))  # each run's nn.MSELoss() (mean over B x 10)
    grads = torch.autograd.grad(losses.sum(), params)  # a sum of independent terms: per-run gradients
    with torch.no_grad():
        for p, g, m, v in zip(params, grads, exp_avg, exp_avg_sq):
            p.mul_(decay)  # decoupled weight decay on all parameters, biases included [DG-code]
            m.lerp_(g, 1 - BETAS[0])
            v.mul_(BETAS[1]).addcmul_(g, g, value=1 - BETAS[1])
            denom = (v.sqrt() / bc2_sqrt).add_(EPS)
            p.sub_(step_size * m / denom)
    return losses.detach()


def make_step(params, exp_avg, exp_avg_sq, x_all, t_all, decay, cuda_graph: bool):
    """step(idx, w, step_size, bc2_sqrt) -> (M,) losses. Eager, or a CUDA graph over static buffers:
    capture once (after warm-up iterations on a side stream, whose updates are undone), then each call
    copies its inputs into the buffers and replays the recorded kernels.

    What makes the step safe to capture: everything that changes from step to step is a tensor input copied
    into a static buffer -- the batch indices (each epoch's order is drawn on the CPU by `plan`, outside the
    graph), the loss weights, AdamW's per-run step size lr/(1-β1^t) and sqrt(1-β2^t) -- and the optimizer state
    (parameters, exp_avg, exp_avg_sq, the per-run decay 1 - lr·γ) lives in tensors updated in place. The only
    Python numbers in the graph are constants: β1, β2, ε."""
    def eager(idx, w, step_size, bc2_sqrt):
        return train_step(params, exp_avg, exp_avg_sq, x_all, t_all, idx, w, decay, step_size, bc2_sqrt)

    if not cuda_graph:
        return eager
    state = [*params, *exp_avg, *exp_avg_sq]
    static, graph, out = None, None, None

    def graphed(idx, w, step_size, bc2_sqrt):
        nonlocal static, graph, out
        if graph is None:
            static = [idx.clone(), w.clone(), step_size.clone(), bc2_sqrt.clone()]
            saved = [t.detach().clone() for t in state]
            side = torch.cuda.Stream()
            side.wait_stream(torch.cuda.current_stream())
            with torch.cuda.stream(side):  # warm-up (cuBLAS handles, autograd) as torch.cuda.graphs requires
                for _ in range(3):
                    eager(*static)
            torch.cuda.current_stream().wait_stream(side)
            with torch.no_grad():  # undo the warm-up updates: the run starts from its init
                for t, s in zip(state, saved):
                    t.copy_(s)
            graph = torch.cuda.CUDAGraph()
            with torch.cuda.graph(graph):
                out = eager(*static)
        for buf, new in zip(static, (idx, w, step_size, bc2_sqrt)):
            buf.copy_(new)
        graph.replay()
        return out

    return graphed


# The CUDA-graph self-test: GRAPH_TEST_STEPS steps eager and the same steps graphed, from the same state, must agree
# to GRAPH_RTOL: max |eager - graphed| / max |eager| over the per-step losses and every parameter and AdamW moment
# after the last step. A replay runs the captured kernels on the same data, so the two agree to rounding (cuBLAS may
# pick another algorithm under capture); a wrong capture (a value baked in, a stale buffer) is off by far more.
GRAPH_TEST_STEPS = 20
GRAPH_RTOL = {"float32": 1e-5, "float64": 1e-12}


def _rel_diff(a: torch.Tensor, b: torch.Tensor) -> float:
    """max |a - b| / max |a| (inf when b has a NaN/inf that a has not, 0 when both are all zero)."""
    a, b = a.double(), b.double()
    if not bool(torch.isfinite(b).all()) and bool(torch.isfinite(a).all()):
        return math.inf
    scale = float(a.abs().max())
    d = float((a - b).abs().max())
    return d / scale if scale > 0 else d


def graph_self_test(eager, graphed, state, batches, steps: int = GRAPH_TEST_STEPS) -> float:
    """Run `steps` steps with `eager` and the same steps with `graphed`, each from the current `state` (the
    tensors the steps update in place), then put `state` back. Returns the largest relative difference
    (`_rel_diff`) over the per-step losses and the final state. batches: plan() output for those steps."""
    saved = [t.detach().clone() for t in state]

    def run(step):
        with torch.no_grad():
            for t, s in zip(state, saved):
                t.copy_(s)
        losses = torch.stack([step(*(b[k] for b in batches)).detach().clone() for k in range(steps)])
        return [losses, *(t.detach().clone() for t in state)]

    try:
        want, got = run(eager), run(graphed)
    finally:
        with torch.no_grad():
            for t, s in zip(state, saved):
                t.copy_(s)
    return max(_rel_diff(a, b) for a, b in zip(want, got))


def select_step(eager, make_graphed, state, batches, rtol: float, steps: int = GRAPH_TEST_STEPS):
    """(step, execution): the graphed step only when `graph_self_test` passes within `rtol`; on a mismatch or
    any exception (capture unsupported, out of memory, no CUDA) the eager step, with a one-line warning on
    stderr. execution is "cuda_graph" or "eager (CUDA graph self-test failed: <why>)", for the run's meta."""
    try:
        graphed = make_graphed()
        diff = graph_self_test(eager, graphed, state, batches, steps)
        why = (None if diff <= rtol
               else f"eager and graphed differ by {diff:.2e} (relative) > {rtol:g} after {steps} steps")
    except Exception as e:  # noqa: BLE001 -- any failure of the graph path means: train eagerly
        why = f"{type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}".rstrip(": ")
    if why is None:
        return graphed, "cuda_graph"
    print(f"grokkit: warning: CUDA graph self-test failed ({why}); training eagerly", file=sys.stderr)
    return eager, f"eager (CUDA graph self-test failed: {why})"


# ---- evaluation ------------------------------------------------------------------------------------
@torch.no_grad()
def loss_and_accuracy(params, x, y, n, chunk: int = 2000):
    """Per run: metrics.loss_and_accuracy over run m's first n[m] rows of x (its own training set, or
    the full test set): the mean over samples x 10 of (output - one_hot)^2, and the accuracy."""
    M = params[0].shape[0]
    n = torch.as_tensor(n, device=x.device)
    sq = torch.zeros(M, dtype=torch.float64, device=x.device)
    correct = torch.zeros(M, dtype=torch.int64, device=x.device)
    for i in range(0, int(n.max()), chunk):
        xc, yc = x[i:i + chunk], y[i:i + chunk]
        out = forward(params, xc.expand(M, -1, -1))
        target = F.one_hot(yc, out.shape[-1]).to(out.dtype)
        valid = torch.arange(i, i + len(xc), device=x.device) < n[:, None]  # (M, c)
        sq += torch.where(valid, (out - target).square().sum(-1, dtype=torch.float64), 0).sum(1)
        correct += (valid & (out.argmax(-1) == yc)).sum(1)
    return (sq / (n * out.shape[-1])).tolist(), (correct.double() / n).tolist()


@torch.no_grad()
def weight_norms(params):
    """Per run: metrics.weight_norms -- the L2 norm of all parameters, weights and biases [DG p3-7], and
    the last layer's."""
    sq = [(p.double() ** 2).sum((1, 2)) for p in params]
    return torch.stack(sq).sum(0).sqrt().tolist(), (sq[-2] + sq[-1]).sqrt().tolist()


@torch.no_grad()
def layer_norms(params):
    """Per run: metrics.layer_norms -- each Linear layer's L2 norm (weight and bias), input layer first."""
    sq = [(p.double() ** 2).sum((1, 2)) for p in params]
    return torch.stack([sq[i] + sq[i + 1] for i in range(0, len(sq), 2)], 1).sqrt().tolist()


@torch.no_grad()
def output_scale(params, x, chunk: int = 2000):
    """Per run: metrics.output_scale -- the square root of the largest eigenvalue of the covariance of its outputs
    over all of x (NaN for a run whose outputs are not finite)."""
    M = params[0].shape[0]
    out = torch.cat([forward(params, x[i:i + chunk].expand(M, -1, -1)) for i in range(0, len(x), chunk)], 1)
    out = out.double() - out.double().mean(1, keepdim=True)
    cov = out.transpose(1, 2) @ out / (out.shape[1] - 1)
    finite = torch.isfinite(cov).all(-1).all(-1)
    top = torch.linalg.eigvalsh(torch.where(finite[:, None, None], cov, 0.0))[:, -1].clamp_min(0).sqrt()
    return torch.where(finite, top, torch.nan).tolist()


# ---- the trainer -----------------------------------------------------------------------------------
def setup(configs, cuda_graph: bool = False):
    """Data, stacked parameters, AdamW state and the step function of a batch. cuda_graph: try the CUDA-graph
    step, kept only if `select_step`'s self-test passes (S["execution"] says which step runs); S["args"] are
    make_step's arguments (params, exp_avg, exp_avg_sq, data, targets, decay)."""
    check_configs(configs)
    set_precision()
    c0 = configs[0]
    device = resolve_device(c0.device)
    dtype = getattr(torch, c0.dtype)
    n = [c.n_train for c in configs]
    # every run's training set is the first N images [DG-code]: one load of the largest N serves all
    x_train, y_train, x_test, y_test = load_mnist(max(n), device=device, dtype=dtype)
    x_test, y_test = x_test[:c0.n_test], y_test[:c0.n_test]  # shared by the batch (SHARED)
    t_train = F.one_hot(y_train, 10).to(dtype)  # "MSE ... one-hot targets" (torch.eye(10)[labels])
    params = stack_params(configs, dtype, device)
    exp_avg = [torch.zeros_like(p, requires_grad=False) for p in params]
    exp_avg_sq = [torch.zeros_like(p, requires_grad=False) for p in params]
    decay = torch.tensor([1 - c.lr * c.weight_decay for c in configs], dtype=torch.float64).view(-1, 1, 1)
    decay = decay.to(device=device, dtype=dtype)
    args = (params, exp_avg, exp_avg_sq, x_train, t_train, decay)
    step, execution = make_step(*args, cuda_graph=False), "eager"
    if cuda_graph:
        k = min(GRAPH_TEST_STEPS, c0.steps)
        step, execution = select_step(step, lambda: make_step(*args, cuda_graph=True), [*params, *exp_avg, *exp_avg_sq],
                                      plan(configs, 0, k, dtype, device), GRAPH_RTOL[c0.dtype], k)
    return dict(device=device, dtype=dtype, n=n, data=(x_train, y_train, x_test, y_test), params=params, step=step,
                execution=execution, args=args)


def batch_id(configs) -> str:
    """The id of a batch (its checkpoint's key): a hash of its runs' ids, in order."""
    return hashlib.sha1(" ".join(c.id for c in configs).encode()).hexdigest()[:10]


def train_batched(configs: list[RunConfig], progress: bool = True, cuda_graph: bool = False,
                  checkpoint_path=None, stop_after: int | None = None) -> list[Run] | None:
    """Train M runs of one depth at once; returns one Run per config, as `grokkit.train(config)` would.
    cuda_graph: replay the step as a CUDA graph when its self-test passes (else eager, with a warning);
    eager by default. Each run's meta["execution"] says which step ran. checkpoint_path: resume the batch from
    it when present (same batch_id) and save to it atomically every configs[0].checkpoint_every steps (the
    stacked parameters, AdamW moments and every run's RunLog). stop_after: stop (after checkpointing) at that
    step and return None -- for tests."""
    if checkpoint_path:  # not at the first checkpoint, checkpoint_every steps in
        writable(Path(checkpoint_path).parent, "checkpoint_path")
    S = setup(configs, cuda_graph)
    c0, M = configs[0], len(configs)
    device, dtype, n, params, step = S["device"], S["dtype"], S["n"], S["params"], S["step"]
    x_train, y_train, x_test, y_test = S["data"]
    x_train64, x_test64 = x_train.double(), x_test.double()  # the rank and probes run in float64 [DG-code]
    models = [make_mlp(c0.depth, c0.width, dtype=dtype, device=device) for _ in configs]  # snapshot holders
    moments = [*S["args"][1], *S["args"][2]]  # exp_avg, exp_avg_sq
    ckpt = Path(checkpoint_path) if checkpoint_path else None
    state = _load_checkpoint(ckpt, batch_id(configs), ("step", "params", "moments", "logs")) if ckpt else None
    start, wall0 = (state["step"], state["wall"]) if state else (0, 0.0)
    logs = [RunLog(c, st) for c, st in zip(configs, state["logs"])] if state else [RunLog(c) for c in configs]
    for log in logs:
        log.resume_at(start)  # the CPU threads of this stretch (RunLog.run)
    if state:
        with torch.no_grad():
            for t, v in zip([*params, *moments], [*state["params"], *state["moments"]]):
                t.copy_(v)
        for log, st in zip(logs, state["logs"]):
            log.diverged_at = st["diverged_at"]
    live = [m for m in range(M) if logs[m].diverged_at is None]
    t0 = time.perf_counter()
    bar = progress_bar(c0.steps, f"batched {M}x d{c0.depth} w{c0.width}", initial=start, disable=not progress)

    def evaluate(s, runs):
        """Log the scalars of `runs` at step s (one batched pass for all M); returns the runs that are finite."""
        trl, tra = loss_and_accuracy(params, x_train, y_train, n)
        tel, tea = loss_and_accuracy(params, x_test, y_test, [len(x_test)] * M)
        wn, ln = weight_norms(params)
        lay, so = layer_norms(params), output_scale(params, x_test)
        return [m for m in runs if logs[m].log(s, (trl[m], tel[m], tra[m], tea[m], wn[m], ln[m]),
                                               {"layer_norm": lay[m], "output_scale": so[m]})]

    def take_snapshot(s, m):
        """train.py's snapshot on run m's own single model (RunLog: same probe seed, same float64 path)."""
        logs[m].snapshot(s, unstack(params, m, models[m]), x_test64, y_test, x_train64[:n[m]], y_train[:n[m]])

    def finite_weights(m):
        return all(bool(torch.isfinite(p[m]).all()) for p in params)

    def diverge(runs, s):
        for m in runs:
            logs[m].diverged_at = s
            live.remove(m)

    def checkpoint(s):
        _save_checkpoint(ckpt, {"config_id": batch_id(configs), "step": s, "wall": wall0 + time.perf_counter() - t0,
                                "params": [p.detach() for p in params], "moments": moments,
                                "logs": [dict(log.state(), diverged_at=log.diverged_at) for log in logs]})

    losses, batches, p0 = None, None, start
    s = start
    for s in range(start, c0.steps):
        ckpt_now = ckpt and c0.checkpoint_every and s > start and s % c0.checkpoint_every == 0
        # train.py's checks, per run: NaN/inf in the last step's loss every NAN_CHECK_EVERY steps and before a
        # checkpoint ...
        if s > start and (ckpt_now or s % NAN_CHECK_EVERY == 0):
            last = losses.tolist()
            bad = [m for m in live if not math.isfinite(last[m])]
            if bad:
                evaluate(s, bad)  # the non-finite point closes that run's history
                diverge(bad, s)
        if ckpt_now:
            checkpoint(s)
        if stop_after is not None and s >= stop_after:
            return None  # interrupted on purpose (tests of resume); the checkpoint holds the state
        # ... the evaluation schedule (a non-finite loss or weight norm ends the run) ...
        if live and c0.is_log_step(s):
            ok = evaluate(s, live)
            diverge([m for m in live if m not in ok], s)
        # ... and the rank snapshots (the SVD would raise on NaN/inf weights)
        if live and c0.is_rank_step(s):
            for m in list(live):
                if not c0.is_log_step(s) and not finite_weights(m):
                    evaluate(s, [m])
                    diverge([m], s)
                else:
                    take_snapshot(s, m)
        if not live:
            break  # every run has diverged
        if batches is None or s - p0 == PLAN_STEPS:  # batch orders, loss weights, AdamW's step sizes: drawn
            p0, batches = s, plan(configs, s, min(PLAN_STEPS, c0.steps - s), dtype, device)  # outside the step
        losses = step(*(b[s - p0] for b in batches))
        if bar is not None and s % 100 == 0:
            bar.update(s + 1 - bar.n)
    else:
        s = c0.steps
        ok = evaluate(s, live)
        for m in list(live):
            if m in ok:
                take_snapshot(s, m)
            else:
                diverge([m], s)
    if bar is not None:
        bar.update(s - bar.n)
        bar.close()
    wall = wall0 + time.perf_counter() - t0
    return [log.run(device, wall, execution=S["execution"], resumed_from=start, batched=M) for log in logs]


# ---- benchmark -------------------------------------------------------------------------------------
def _sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize(device)


def bench_batched(M: int = 16, depth: int = 12, width: int = 400, steps: int = 50, device: str = "auto",
                  dtype: str = "float32", n_train: int = 2000, warmup: int = 3, cuda_graph: bool = False) -> dict:
    """Aggregate throughput (run-steps/s) of one batched step of M runs against M single runs trained one
    after another with train.py's plain loop (model(x) -> F.mse_loss -> backward -> fused AdamW), on the
    same device. Evaluation and snapshots are left out of both. cuda_graph: time the graphed step (after its
    self-test) instead of the eager one. Prints and returns the numbers."""
    device = resolve_device(device)
    configs = [RunConfig(depth=depth, width=width, n_train=n_train, steps=steps, seed=m, dtype=dtype,
                         weight_decay=0.01 * (1 + m % 4), device=device, probe_every=-1) for m in range(M)]
    # batched: the step train_batched runs, including its per-step input copies
    S = setup(configs, cuda_graph)
    batches = plan(configs, 0, warmup + steps, S["dtype"], device)
    for s in range(warmup):
        S["step"](*(b[s] for b in batches))
    _sync(device)
    t = time.perf_counter()
    for s in range(warmup, warmup + steps):
        S["step"](*(b[s] for b in batches))
    _sync(device)
    batched = time.perf_counter() - t
    execution = S["execution"]
    del S
    # single runs, one after another: train.py's loop
    x_train, y_train, _, _ = load_mnist(n_train, device=device, dtype=getattr(torch, dtype))
    targets = F.one_hot(y_train, 10).to(x_train.dtype)
    single = 0.0
    for cfg in configs:
        model = make_mlp(depth, width, cfg.alpha, cfg.seed, dtype=getattr(torch, dtype), device=device)
        opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True)
        order = epoch_order(cfg.seed, 0, n_train).to(device)
        for s in range(warmup + steps):
            if s == warmup:
                _sync(device)
                t = time.perf_counter()
            j = s % (n_train // cfg.batch_size)
            bi = order[j * cfg.batch_size:(j + 1) * cfg.batch_size]
            loss = F.mse_loss(model(x_train[bi]), targets[bi])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        _sync(device)
        single += time.perf_counter() - t
    out = {"device": device, "M": M, "depth": depth, "width": width, "dtype": dtype, "steps": steps,
           "batched_run_steps_per_s": M * steps / batched, "single_run_steps_per_s": M * steps / single,
           "ratio": single / batched, "threads": torch.get_num_threads(),
           "execution": execution}
    print(f"bench_batched {device} M={M} d{depth} w{width} {dtype}: batched {out['batched_run_steps_per_s']:.1f} "
          f"run-steps/s, one after another {out['single_run_steps_per_s']:.1f} run-steps/s -> "
          f"{out['ratio']:.2f}x aggregate throughput")
    return out
