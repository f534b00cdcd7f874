"""The training loop: AdamW on MSE against one-hot targets, batches drawn from tensors already on the
device, the paper's evaluation schedule, atomic checkpoints, and `load_or_train` over run records.

Authors' code [DG-code]: `torch.optim.AdamW(lr=1e-3, weight_decay=γ)` (decoupled decay on all
parameters, no schedule, no clipping), `nn.MSELoss()` against `torch.eye(10)[labels]`, batch 200 with
`shuffle=True` and an infinite `cycle()` over the DataLoader (reshuffled every epoch).
"""
from __future__ import annotations

import contextlib
import hashlib
import io
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from . import records
from .config import RunConfig, resolve_device
from .data import load_mnist
from .folders import results_writable, writable
from .metrics import layer_norms, loss_and_accuracy, output_scale, snapshot, weight_norms
from .model import make_mlp
from .penalties import clamp_fn, clamp_target, penalised_step_fn
from .records import Run
from .surgery import apply, heldout_images

SCALARS = ("step", "train_loss", "test_loss", "train_acc", "test_acc", "weight_norm", "last_layer_norm")
# kept on the evaluation schedule since issue 42 (older records and the batched trainer's lack them):
# layer_norm (log points, depth) per-layer weight norms, output_scale (log points) s_out on the test set
EXTRAS = ("layer_norm", "output_scale")
NAN_CHECK_EVERY = 100  # between evaluations, the training loss is checked for NaN/inf every K steps (one sync)
CKPT_MAGIC = b"grokkit-checkpoint sha256:"  # header: magic, hex sha256 of the torch.save payload, newline
PROGRESS_EVERY = 30.0  # seconds between progress lines when stderr is not a terminal (a log, papermill, a notebook)


def epoch_order(seed: int, epoch: int, n: int) -> torch.Tensor:
    """The batch order of one epoch: a fresh permutation per epoch (DataLoader(shuffle=True) under
    cycle()), drawn from (seed, epoch) alone so that a resumed run replays it exactly."""
    g = torch.Generator().manual_seed(seed * 1_000_003 + epoch)
    return torch.randperm(n, generator=g)


# torch's private fused AdamW kernel (what opt.step() runs when fused=True), called without opt.step()'s
# Python overhead; a torch without it (or a non-fused optimizer) takes the public opt.step() path.
FUSED_ADAMW = hasattr(torch, "_fused_adamw_")


def _step_fn(model, opt, x_train: torch.Tensor, targets: torch.Tensor, batch_size: int):
    """One training step as a closure, step(idx) -> the batch loss (0-d tensor): train() and `grokkit bench`
    run this one piece of code.

    Written out for the MLP instead of autograd: at batch 200 on a CPU the matmuls are the only real work,
    and autograd's graph, the allocator, out-of-place elementwise ops and opt.step()'s Python cost ~10% on
    top of them (2 cores). Every activation and gradient lives in a buffer allocated once, the matmuls
    write into it (out=), ReLU runs in place. The formulas are autograd's own -- Linear y = a Wᵀ + b:
    dW = gᵀa, db = Σ_batch g, da = g W; ReLU: threshold_backward on its output; MSELoss (mean):
    2 (out - y) / numel -- and the update is the kernel opt.step() runs (fused AdamW) on the optimizer's
    own state, so the history is bit-identical to the autograd loop and checkpoints are unchanged.
    """
    Ws = [layer.weight for layer in model.layers]
    bs = [layer.bias for layer in model.layers]
    params = list(model.parameters())  # W0, b0, W1, b1, ...: the optimizer's order
    for p in params:
        p.grad = torch.zeros_like(p)  # written in place every step; nothing zeroes them
    kw = dict(dtype=x_train.dtype, device=x_train.device)
    acts = [torch.empty(batch_size, W.shape[0], **kw) for W in Ws]  # each layer's output (after ReLU)
    grads = [torch.empty(batch_size, W.shape[0], **kw) for W in Ws]  # dL/d(each layer's pre-activation)
    xb, yb = torch.empty(batch_size, x_train.shape[1], **kw), torch.empty(batch_size, targets.shape[1], **kw)
    fused = FUSED_ADAMW and bool(opt.param_groups[0].get("fused"))
    views = {}  # rows -> the buffers' leading rows (the short last batch of an epoch has its own views)
    state = []

    def adamw():
        if not state:
            if not opt.state or not fused:  # first step of a fresh run: torch creates its state
                opt.step()
                return
            st = [opt.state[p] for p in params]
            state.extend(([s["exp_avg"] for s in st], [s["exp_avg_sq"] for s in st], [s["step"] for s in st]))
        exp_avgs, exp_avg_sqs, steps = state
        g = opt.param_groups[0]  # train()'s AdamW: one group, amsgrad and maximize off
        torch._foreach_add_(steps, 1)  # what torch.optim's fused AdamW does, minus its per-call Python
        torch._fused_adamw_(params, [p.grad for p in params], exp_avgs, exp_avg_sqs, [], steps, lr=g["lr"],
                            beta1=g["betas"][0], beta2=g["betas"][1], weight_decay=g["weight_decay"],
                            eps=g["eps"], amsgrad=False, maximize=False)

    @torch.no_grad()
    def step(idx):
        m = len(idx)
        if m not in views:
            views[m] = (xb[:m], yb[:m], [a[:m] for a in acts], [g[:m] for g in grads])
        x, y, A, G = views[m]
        torch.index_select(x_train, 0, idx, out=x)
        torch.index_select(targets, 0, idx, out=y)
        a = x
        for i, (W, b) in enumerate(zip(Ws, bs)):
            a = torch.addmm(b, a, W.t(), out=A[i])
            if i < len(Ws) - 1:
                a.clamp_min_(0)  # ReLU in place: its output is all the backward needs
        g = torch.sub(a, y, out=G[-1])
        loss = g.square().mean()  # nn.MSELoss(): mean over batch x 10
        g.mul_(2 / g.numel())
        for i in range(len(Ws) - 1, -1, -1):
            a_in = A[i - 1] if i else x
            torch.mm(g.t(), a_in, out=Ws[i].grad)
            torch.sum(g, 0, out=bs[i].grad)
            if i:
                g = torch.mm(g, Ws[i], out=G[i - 1])
                torch.ops.aten.threshold_backward.grad_input(g, a_in, 0, grad_input=g)
        adamw()
        return loss

    return step


class TextProgress:
    """Progress as plain lines on stderr: one at the start, then at most one every PROGRESS_EVERY seconds, and one
    at the end. What a log keeps (papermill --log-output, a batch job's output, a saved notebook, nbval), where a
    terminal bar redrawn with '\\r' or a notebook widget shows '0%'. The methods train() and run_chapter use of a
    tqdm bar: update, set_postfix, close, and `n`."""

    def __init__(self, total: int, desc: str, unit: str = "step", initial: int = 0):
        self.total, self.desc, self.unit, self.n, self.postfix = total, desc, unit, initial, ""
        self.start, self.t0 = initial, time.monotonic()
        self.last = None
        self.show()

    def show(self) -> None:
        elapsed = time.monotonic() - self.t0
        rate = (self.n - self.start) / elapsed if elapsed > 0 else 0.0
        left = f", ~{_duration((self.total - self.n) / rate)} left" if 0 < rate and self.n < self.total else ""
        pct = f" ({100 * self.n / self.total:.0f}%)" if self.total else ""
        post = f", {self.postfix}" if self.postfix else ""
        print(f"{self.desc}: {self.n:,}/{self.total:,} {self.unit}s{pct}, {_duration(elapsed)} elapsed, "
              f"{rate:,.1f} {self.unit}s/s{left}{post}", file=sys.stderr, flush=True)
        self.last = time.monotonic()

    def update(self, k: int = 1) -> None:
        self.n += k
        if time.monotonic() - self.last >= PROGRESS_EVERY:
            self.show()

    def set_postfix(self, refresh: bool = False, **values) -> None:
        self.postfix = " ".join(f"{k} {v}" for k, v in values.items())

    def close(self) -> None:
        self.show()


def _duration(s: float) -> str:
    s = int(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s"


def progress_bar(total: int, desc: str, unit: str = "step", initial: int = 0, disable: bool = False):
    """A tqdm bar on a terminal (stderr is a TTY); else TextProgress lines on stderr (papermill's log, a job's
    output file, a notebook: a widget bar would show '0%' in the log and the saved notebook). None if disabled."""
    if disable:
        return None
    if sys.stderr.isatty():
        from tqdm import tqdm

        return tqdm(total=total, initial=initial, desc=desc, unit=unit, mininterval=1.0)
    return TextProgress(total, desc, unit, initial)


def make_step(config: RunConfig, model, opt, x_train, targets):
    """train()'s step for `config`: `_step_fn` for a paper run, `penalised_step_fn` for a run with a rank penalty;
    with a norm clamp the clamp follows every step. Returns step(idx) -> the batch loss."""
    if config.rank_penalty_kind != "none":
        step = penalised_step_fn(model, opt, x_train, targets, config.rank_penalty_kind, config.rank_penalty,
                                  config.rank_penalty_scale)
    else:
        step = _step_fn(model, opt, x_train, targets, config.batch_size)
    if config.norm_clamp == "none":
        return step
    clamp = clamp_fn(model, clamp_target(config, model))

    def clamped(idx):
        loss = step(idx)
        clamp()
        return loss

    return clamped


SNAPS = ("rank_step", "rank", "robust_rank", "eff_rank", "probe_step", "probe_acc", "spectrum", "spectrum_max")


def history_arrays(hist: dict, snaps: dict) -> dict:
    """The record layout: scalars on the evaluation schedule, snapshots x layers for ranks and probes, and
    the covariance spectra kept at every rank snapshot (`metrics.relative_spectrum`): `spectrum` (snapshots,
    layers, width) float32 relative to each layer's largest singular value, `spectrum_max` (snapshots, layers).
    A run resumed from a checkpoint written before spectra were kept has no spectrum arrays."""
    history = {k: np.array(v, dtype=np.int64 if k == "step" else np.float64) for k, v in hist.items()
               if k in SCALARS or len(v) == len(hist["step"])}  # an extra begun mid-run (resumed) is left out
    history["rank_step"] = np.array(snaps["rank_step"], dtype=np.int64)
    for k in ("rank", "robust_rank", "eff_rank"):
        history[k] = np.array(snaps[k], dtype=np.float64 if k == "eff_rank" else np.int64)
    if snaps["rank_step"] and len(snaps.get("spectrum", ())) == len(snaps["rank_step"]):
        history["spectrum"] = np.array(snaps["spectrum"], dtype=np.float32)
        history["spectrum_max"] = np.array(snaps["spectrum_max"], dtype=np.float64)
    if snaps["probe_step"]:
        history["probe_step"] = np.array(snaps["probe_step"], dtype=np.int64)
        history["probe_acc"] = np.array(snaps["probe_acc"], dtype=np.float64)
    return history


def probe_seed(config: RunConfig, s: int) -> int:
    """The linear probes' seed at step s: a function of (seed, step) alone, so a resumed run and the same run
    inside a batch draw the same probe splits and heads."""
    return (config.seed * 10_000_019 + s) % 2**62


def set_precision() -> None:
    """Full float32 matmuls everywhere: TF32 off (matmul precision "highest", cuBLAS and cuDNN TF32 disabled),
    so a GPU run computes what a CPU run computes, up to rounding order. Called by every trainer."""
    torch.set_float32_matmul_precision("highest")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False


def _versions() -> dict:
    import sys

    return {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda,
            "numpy": np.__version__, "platform": platform.platform()}


class RunLog:
    """One run's bookkeeping, the single path of `train` and `batched.train_batched`: the scalars on the
    evaluation schedule (SCALARS), the rank and probe snapshots (float64 [DG-code]; probe seed `probe_seed`),
    where it diverged, and the record's meta. `state()` / `RunLog(config, state)` round-trip it through a
    checkpoint (plain lists: loadable with torch.load(weights_only=True))."""

    def __init__(self, config: RunConfig, state: dict | None = None):
        self.config, self.diverged_at = config, None
        # [first step, CPU threads] of each stretch the run trained in; a checkpoint from before they were kept
        # gives its stretch an unknown count (None)
        self.threads = [list(t) for t in state.get("threads", [[0, None]])] if state else []
        self.hist = {k: list(v) for k, v in state["hist"].items()} if state else {k: [] for k in SCALARS}
        self.applied = list(state.get("applied", [])) if state else []  # surgery.apply's checks, in step order
        self.snaps = {k: [] for k in SNAPS}  # a checkpoint from before spectra were kept lacks them
        for k, v in (state["snaps"].items() if state else ()):
            self.snaps[k] = [r.numpy() if isinstance(r, torch.Tensor) else np.array(r) if isinstance(r, list) else r
                             for r in v]

    def log(self, s: int, values, extras: dict | None = None) -> bool:
        """Append step s and `values` = (train_loss, test_loss, train_acc, test_acc, weight_norm,
        last_layer_norm), and `extras` ({EXTRAS key: value}, where the trainer measures them); False when the loss
        or the weight norm is not finite (the run has diverged)."""
        for k, v in zip(SCALARS, (s, *values)):
            self.hist[k].append(v)
        for k, v in (extras or {}).items():
            self.hist.setdefault(k, []).append(v)
        return math.isfinite(values[0]) and math.isfinite(values[4])

    def snapshot(self, s: int, model, x_test64, y_test, x_train64, y_train) -> None:
        """Rank (and, on the probe cadence, linear probes) of `model`'s features at step s."""
        c = self.config
        probe = c.is_probe_step(s)
        snap = snapshot(model, x_test64, y_test, x_train64, y_train,
                        probe_seed=probe_seed(c, s) if probe else None, probe_epochs=c.probe_epochs)
        for k, v in (("rank_step", s), ("rank", snap.rank), ("robust_rank", snap.robust_rank),
                     ("eff_rank", snap.eff_rank), ("spectrum", snap.spectrum), ("spectrum_max", snap.spectrum_max)):
            self.snaps[k].append(v)
        if probe:
            self.snaps["probe_step"].append(s)
            self.snaps["probe_acc"].append(snap.probe_acc)

    def resume_at(self, step: int) -> None:
        """Mark that training (re)starts at `step` on this process's CPU threads."""
        self.threads.append([step, torch.get_num_threads()])

    def state(self) -> dict:
        """Plain lists of numbers and tensors (arrays as tensors: the spectra are 4,800 numbers a snapshot)."""
        return {"hist": {k: list(v) for k, v in self.hist.items()}, "threads": [list(t) for t in self.threads],
                "applied": [dict(a) for a in self.applied],
                "snaps": {k: [torch.from_numpy(np.ascontiguousarray(x)) if isinstance(x, np.ndarray) else x
                              for x in v] for k, v in self.snaps.items()}}

    def run(self, device: str, wall_time_s: float, execution: str, resumed_from: int | None = None,
            batched: int | None = None) -> Run:
        """The Run, with meta: library versions (torch, CUDA), device and GPU name, dtype, threads, matmul
        precision, execution mode ("eager", "cuda_graph", or eager with why the graph was not used), wall time,
        divergence. A run resumed on another thread count (resume_at) records "threads" None and its stretches as
        "thread_segments" ([first step, threads], None where a checkpoint did not say)."""
        counts = {n for _, n in self.threads} or {torch.get_num_threads()}
        meta = {"versions": _versions(), "device": device, "dtype": self.config.dtype,
                "threads": counts.pop() if len(counts) == 1 else None, "wall_time_s": wall_time_s,
                "diverged_at": self.diverged_at, "resumed_from": resumed_from or None, "execution": execution,
                "matmul_precision": torch.get_float32_matmul_precision()}
        if len(self.threads) > 1 and meta["threads"] is None:
            meta["thread_segments"] = [list(t) for t in self.threads]
        if batched is not None:
            meta["batched"] = batched
        if self.applied:
            meta["applied"] = [dict(a) for a in self.applied]  # the one-off interventions' manipulation checks
        if device.startswith("cuda"):
            meta["gpu"] = torch.cuda.get_device_name(device)
        return Run(config=self.config, history=history_arrays(self.hist, self.snaps), meta=meta)


def _save_checkpoint(path: Path, state: dict) -> None:
    """Atomic (temp file + os.replace) and checksummed: torch.load does not notice flipped bytes."""
    buf = io.BytesIO()
    torch.save(state, buf)
    blob = buf.getvalue()
    records.atomic_write(path, lambda f: f.write(CKPT_MAGIC + hashlib.sha256(blob).hexdigest().encode() + b"\n" + blob))


CKPT_KEYS = ("step", "model", "optimizer", "hist", "snaps")  # a single run's checkpoint


def _read_checkpoint(path: Path, keys=CKPT_KEYS) -> dict:
    """The state saved by _save_checkpoint at `path`; ValueError when it is damaged or lacks `keys`, OSError
    (PermissionError: another user's) when it cannot be read."""
    return _parse_checkpoint(path.read_bytes(), keys)


def _parse_checkpoint(raw: bytes, keys=CKPT_KEYS) -> dict:
    """_read_checkpoint on the file's bytes."""
    if not raw.startswith(CKPT_MAGIC):
        raise ValueError("no checksum header")
    n = len(CKPT_MAGIC)
    digest, blob = raw[n:n + 64].decode(), raw[n + 65:]
    if hashlib.sha256(blob).hexdigest() != digest:
        raise ValueError("checksum mismatch")
    state = torch.load(io.BytesIO(blob), map_location="cpu", weights_only=True)  # never unpickle objects
    if not isinstance(state, dict) or not set(keys) <= set(state):
        raise ValueError("not a grokkit checkpoint")
    return state


def checkpoint_step(config: RunConfig, results_dir=None) -> int | None:
    """The step at which `config`'s checkpoint in <results_dir>/.checkpoints (train_and_save's) would resume it, or
    None: no checkpoint, or one that is damaged or of another config (training would start from step 0)."""
    path = _checkpoint_path(config, records.results_folder(results_dir))
    try:
        state = _read_checkpoint(path) if path.exists() else {}
    except Exception:
        return None
    return int(state["step"]) if state.get("config_id") == config.id else None


def _load_checkpoint(path: Path, config_id: str, keys=CKPT_KEYS):
    """The state saved by _save_checkpoint at `path`, or None (with one line why) when it is absent, damaged or lacks
    `keys`. A checkpoint that cannot be read (PermissionError: another user's) raises, and so does one of another
    config (or batch) than `config_id` (records.ForeignRecord): neither is damaged, and starting over would replace
    it."""
    if not path.exists():
        return None
    raw = path.read_bytes()  # a checkpoint that cannot be read raises: it is not damaged
    try:
        state = _parse_checkpoint(raw, keys)
    except Exception as e:
        print(f"grokkit: ignoring unreadable checkpoint {path} ({type(e).__name__}: {e}); starting from step 0")
        return None
    if state.get("config_id") != config_id:  # another run's progress: never trained over, never replaced
        raise records.ForeignRecord(f"{path}: a checkpoint of another run (id {state.get('config_id')}), not of this "
                                    f"one (id {config_id}); it is never replaced: give another checkpoint path, or "
                                    f"delete it if no one needs it", "config")
    return state


def train(config: RunConfig, progress: bool = True, checkpoint_path: str | Path | None = None,
          stop_after: int | None = None) -> Run:
    """Train one run and return its history on the evaluation schedule.

    checkpoint_path: if given, the run resumes from it when present and saves to it atomically every
    `config.checkpoint_every` steps. stop_after: stop (after checkpointing) at that step -- for tests.
    """
    if checkpoint_path:  # not at the first checkpoint, config.checkpoint_every steps in
        writable(Path(checkpoint_path).parent, "checkpoint_path")
    set_precision()
    device = resolve_device(config.device)
    dtype = getattr(torch, config.dtype)
    x_train, y_train, x_test, y_test = load_mnist(config.n_train, device=device, dtype=dtype)
    x_test, y_test = x_test[:config.n_test], y_test[:config.n_test]  # all 10k but in a smoke-scale stand-in
    x_train64, x_test64 = x_train.double(), x_test.double()  # the rank and probes run in float64 [DG-code]
    targets = F.one_hot(y_train, 10).to(dtype)  # "MSE ... one-hot targets" (torch.eye(10)[labels])

    model = make_mlp(config.depth, config.width, config.alpha, config.seed, dtype=dtype, device=device)
    opt = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay,
                            **({"fused": True} if device == "cpu" or device.startswith("cuda") else {}))
    start, wall0 = 0, 0.0
    ckpt = Path(checkpoint_path) if checkpoint_path else None
    state = _load_checkpoint(ckpt, config.id) if ckpt else None
    if state is not None:
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        start, wall0 = state["step"], state["wall"]
    elif config.norm_clamp not in ("none", "init"):  # a fixed norm holds from initialization on
        clamp_fn(model, clamp_target(config))()
    log = RunLog(config, state)
    log.resume_at(start)

    n, bs = config.n_train, config.batch_size
    per_epoch = math.ceil(n / bs)  # DataLoader without drop_last: a short last batch when bs does not divide n
    t0 = time.perf_counter()
    bar = progress_bar(config.steps, config.name, initial=start, disable=not progress)

    def evaluate(s):
        model.eval()
        trl, tra = loss_and_accuracy(model, x_train, y_train)
        tel, tea = loss_and_accuracy(model, x_test, y_test)
        if bar is not None:
            bar.set_postfix(train=f"{tra:.3f}", test=f"{tea:.3f}", refresh=False)
        extras = {"layer_norm": layer_norms(model), "output_scale": output_scale(model, x_test)}
        model.train()
        return log.log(s, (trl, tel, tra, tea, *weight_norms(model)), extras)

    def take_snapshot(s):
        log.snapshot(s, model, x_test64, y_test, x_train64, y_train)

    def checkpoint(s):
        _save_checkpoint(ckpt, {"config_id": config.id, "step": s, "wall": wall0 + time.perf_counter() - t0,
                                "model": model.state_dict(), "optimizer": opt.state_dict(), **log.state()})

    def finite_weights():
        return all(bool(torch.isfinite(p).all()) for p in model.parameters())

    model.train()
    step = make_step(config, model, opt, x_train, targets)  # after the checkpoint's state is loaded
    one_off = config.scale_reset_step or config.rank_cut_step
    images = {"heldout": heldout_images(device, dtype), "train": x_train, "test": x_test} if one_off else {}
    order, loss = None, None
    s = start
    for s in range(start, config.steps):
        ckpt_now = ckpt and config.checkpoint_every and s > start and s % config.checkpoint_every == 0
        # cheap divergence check between evaluations (one sync every NAN_CHECK_EVERY steps, and before a
        # checkpoint): NaN/inf weights are absorbing, so the loss of the last step shows them
        if s > start and (ckpt_now or s % NAN_CHECK_EVERY == 0) and not math.isfinite(loss.item()):
            evaluate(s)  # the non-finite point closes the history
            log.diverged_at = s
            break
        if ckpt_now:
            checkpoint(s)
        if stop_after is not None and s >= stop_after:
            break
        if one_off and (done := apply(config, model, s, images)) is not None:  # after the checkpoint of step s
            log.applied.append(done)
        if config.is_log_step(s) and not evaluate(s):
            log.diverged_at = s
            break
        if config.is_rank_step(s):
            if not config.is_log_step(s) and not finite_weights():  # the SVD would raise on NaN/inf
                evaluate(s)
                log.diverged_at = s
                break
            take_snapshot(s)
        epoch, j = divmod(s, per_epoch)
        if order is None or j == 0:
            order = epoch_order(config.seed, epoch, n).to(device)  # drawn on the CPU, outside any step
        loss = step(order[j * bs:(j + 1) * bs])
        if bar is not None and s % 100 == 0:
            bar.update(s + 1 - bar.n)
    else:
        s = config.steps
        if evaluate(s):
            take_snapshot(s)
        else:
            log.diverged_at = s
    if bar is not None:
        bar.update(s - bar.n)
        bar.close()
    if stop_after is not None and s < config.steps and log.diverged_at is None:
        return None  # interrupted on purpose (tests of resume); the checkpoint holds the state
    return log.run(device, wall0 + time.perf_counter() - t0, execution="eager", resumed_from=start)


def _checkpoint_path(config: RunConfig, results_dir) -> Path:
    return Path(results_dir) / ".checkpoints" / f"{config.name}-{config.id}.pt"


def _flag(field: str, value) -> str:
    return f"{field}={value!r} (--{field.replace('_', '-')} {value})"


def _warn_same_name(config: RunConfig, results_dir) -> None:
    """Before training: a record of the same name but another id is most likely the run the user meant (the name
    omits the schedule and lr/batch size), so say which fields differ and how to load it. It warns and trains (a
    different schedule asked for on purpose is a different run), it does not refuse; one this user may not read
    (another user's) is one line and blocks nothing."""
    for path, diff in records.same_name(config, results_dir):
        if isinstance(diff, OSError):
            print(f"grokkit: {path} has the same name but another config's id, and is not readable here "
                  f"({diff.strerror or diff}); training this config's own record", file=sys.stderr)
            continue
        theirs = ", ".join(_flag(k, a) for k, (a, _) in diff.items())
        asked = ", ".join(f"{k}={b!r}" for k, (_, b) in diff.items())
        print(f"grokkit: {path} has the same name but another config ({asked} asked for); training a new run. "
              f"To load that record instead, ask for {theirs}", file=sys.stderr)


def load_or_train(config: RunConfig, results_dir=None, progress: bool = True, retrain_corrupt: bool = True,
                  wait: bool = True) -> Run | None:
    """Load the record of `config` from `results_dir` (default: records.results_folder(): $GROKKIT_RESULTS, else
    the repository's results/), or train it (resuming a checkpoint) and save it. Before training, a record of the
    same name but another config is reported with the fields that differ. A corrupt record of this user's is
    reported and retrained (or raised with retrain_corrupt=False); one that is not this user's to replace (another
    format version, a valid record of another config under this file name, another user's damaged record) raises
    records.ForeignRecord, and one this user may not read PermissionError: never retrained, never replaced. With
    wait=False, return None at once when another process is training this config. Before training, the results folder
    and its .locks and .checkpoints must take new files (folders.results_writable: one OSError line naming the folder
    and GROKKIT_RESULTS, before the first step)."""
    results_dir = records.results_folder(results_dir)
    path = records.record_path(config, results_dir)
    if path.exists():
        try:
            return records.load(path, config)
        except records.ForeignRecord:
            raise
        except records.RecordError as e:
            if not retrain_corrupt:
                raise
            records.check_replaceable(path, config)  # another user's damaged record is not ours to replace
            print(f"grokkit: {e}; retraining")
    # before any training; .locks only when the lock file is still to be made (a local lock needs only to read it)
    results_writable(results_dir, checkpoints=bool(config.checkpoint_every),
                     locks=not records.lock_path(config, results_dir).exists())
    with records.lock(config, results_dir, blocking=wait) as held:
        if not held:
            return None
        if path.exists():  # another process finished it while we waited
            try:
                run = records.load(path, config)
                print(f"grokkit: {path} was written by another process; loaded it")
                return run
            except records.ForeignRecord:
                raise
            except (records.RecordError, FileNotFoundError):
                pass  # the damaged record reported above (train_and_save replaces it), or gone since
        _warn_same_name(config, results_dir)
        return train_and_save(config, results_dir, progress)  # we hold its lock: no other trainer is live


def train_and_save(config: RunConfig, results_dir=None, progress: bool = True) -> Run:
    """Train `config`, resuming <results_dir>/.checkpoints/<name>-<id>.pt when present (checkpointing every
    config.checkpoint_every steps), save its record atomically and remove the checkpoint. Takes no lock: the
    caller makes sure no other process trains this config (load_or_train's file lock, or a sweep's fixed
    shards, grokkit.sweep.run_grid). A record at its path that is not this user's to replace (records.ForeignRecord:
    another format version, another config's valid record, another user's damaged record) raises before any
    training."""
    results_dir = records.results_folder(results_dir)
    path = records.record_path(config, results_dir)
    records.check_replaceable(path, config)  # sweep jobs and chapters (load_or_train_many) train through here
    results_writable(results_dir, checkpoints=bool(config.checkpoint_every))  # the record and checkpoints: before
    ckpt = _checkpoint_path(config, results_dir)
    # temp files of this config left by a process killed mid-write (no other trainer of it is live); another
    # user's in a folder with the sticky bit cannot be removed, and is left (it is never read)
    for tmp in [*path.parent.glob(f".{path.name}.*.tmp"), *ckpt.parent.glob(f".{ckpt.name}.*.tmp")]:
        with contextlib.suppress(FileNotFoundError, PermissionError):
            tmp.unlink()
    run = train(config, progress=progress, checkpoint_path=ckpt if config.checkpoint_every else None)
    records.save(run, results_dir)
    with contextlib.suppress(FileNotFoundError, PermissionError):  # another user's, in a sticky folder: left, unread
        ckpt.unlink()  # (the record is saved: the run is done, and a checkpoint of a recorded run is never read)
    return run
