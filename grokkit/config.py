"""RunConfig: every knob of one training run, validated on construction.

Defaults are the paper's (../shared/PAPER.md §1): "All the models have the same width (400)",
"initialization scale α=8.0 and weight decay γ=0.01", "Adam optimizer (learning rate 1×10⁻³) and
Mean Square Error (MSE) for 10⁵ steps"; batch 200 and the evaluation schedule come from the
authors' code (§1.2).
"""
from __future__ import annotations

import hashlib
import json
import math
import os
from dataclasses import asdict, dataclass, fields, replace

DTYPES = ("float32", "float64")
DEVICES = ("auto", "cpu", "cuda")  # "cuda:N" is accepted too
MAX_DEPTH = 64        # documented bound: beyond it a clear error instead of a slow crawl
MAX_WIDTH = 8192
MNIST_TRAIN = 60_000  # size of the official training set


@dataclass(frozen=True)
class RunConfig:
    depth: int = 12             # number of nn.Linear layers ("depth" in the paper: 4, 8, 12)
    width: int = 400            # "All the models have the same width (400)" [DG p2-1]
    alpha: float = 8.0          # "we scale the standard initialization ... by a scaling factor α" [DG p2-1]
    weight_decay: float = 0.01  # γ; AdamW's decoupled decay on all parameters (authors' code)
    lr: float = 1e-3            # "Adam optimizer (learning rate 1×10⁻³)" [DG p2-1]
    n_train: int = 5000         # the first N official training images (authors' code: Subset(range(N)))
    batch_size: int = 200       # authors' code / Omnigrok App. A
    steps: int = 100_000        # "for 10⁵ steps" [DG p2-1]
    seed: int = 0               # the authors ran seed 0 only
    dtype: str = "float32"      # training dtype; the rank is always computed in float64 (PAPER §2.2). The authors
    #                             train in float64; float32 is the default because its full-scale twin of d12 N=2000
    #                             keeps the behaviour (report.dtype_table; the scoreboard chapter shows it)
    device: str = "auto"        # where it runs: not part of the run's identity
    # Evaluation schedule (authors' code, PAPER §1.2): log before the update at step s when s < 30,
    # or s < 150 and s % 10 == 0, or s % log_every == 0, where log_every = ceil(steps / 150).
    log_every: int = 0          # 0 = the paper's ceil(steps / 150) = 667 at 1e5 steps
    rank_every: int = 0         # 0 = the paper's 5 * log_every = 3335 ("30 snapshots per run")
    probe_every: int = 0        # 0 = same as rank_every; -1 = no linear probes
    probe_epochs: int = 30      # authors' LinearProbe: 30 epochs, batch 512, Adam lr 1e-3
    checkpoint_every: int = 5000  # resumable runs: atomic checkpoint every K steps (0 = never)

    def __post_init__(self):
        validate(self)

    # ---- derived schedule -------------------------------------------------------------
    @property
    def log_period(self) -> int:
        return self.log_every or math.ceil(self.steps / 150)

    @property
    def rank_period(self) -> int:
        return self.rank_every or 5 * self.log_period

    @property
    def probe_period(self) -> int:
        return 0 if self.probe_every < 0 else (self.probe_every or self.rank_period)

    def is_log_step(self, s: int) -> bool:
        return s < 30 or (s < 150 and s % 10 == 0) or s % self.log_period == 0 or s == self.steps

    def is_rank_step(self, s: int) -> bool:
        return s % self.rank_period == 0 or s == self.steps

    def is_probe_step(self, s: int) -> bool:
        p = self.probe_period
        return p > 0 and (s % p == 0 or s == self.steps)

    # ---- identity ---------------------------------------------------------------------
    def identity(self) -> dict:
        """The fields that decide the result (device and checkpoint cadence do not)."""
        d = asdict(self)
        d.pop("device")
        d.pop("checkpoint_every")
        d["log_every"], d["rank_every"] = self.log_period, self.rank_period
        d["probe_every"] = self.probe_period or -1  # resolved, so that equal schedules share one id
        return d

    @property
    def id(self) -> str:
        blob = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha1(blob.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        n = f"d{self.depth}_w{self.width}_n{self.n_train}_a{self.alpha:g}_wd{self.weight_decay:g}_s{self.seed}"
        if self.dtype != "float32":
            n += "_f64"
        if self.steps != 100_000:
            n += f"_t{self.steps}"
        return n

    def replace(self, **kw) -> "RunConfig":
        unknown = sorted(set(kw) - {f.name for f in fields(self)})
        if unknown:  # a typo (e.g. a papermill parameter) must not pass as a TypeError deep in a notebook
            raise ValueError(f"RunConfig: unknown field(s) {unknown}; allowed: {sorted(f.name for f in fields(self))}")
        return replace(self, **kw)

    @classmethod
    def from_dict(cls, d: dict) -> "RunConfig":
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"RunConfig: unknown field(s) {unknown}; allowed: {sorted(known)}")
        return cls(**d)


def _int(cfg, name, lo, hi=None):
    v = getattr(cfg, name)
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"{name}: must be an integer, got {v!r} ({type(v).__name__})")
    if v < lo or (hi is not None and v > hi):
        rng = f">= {lo}" if hi is None else f"in {lo}..{hi}"
        raise ValueError(f"{name}: must be {rng}, got {v}")


def _float(cfg, name, lo, lo_open):
    v = getattr(cfg, name)
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ValueError(f"{name}: must be a number, got {v!r} ({type(v).__name__})")
    if not math.isfinite(v) or v < lo or (lo_open and v == lo):
        raise ValueError(f"{name}: must be a finite number {'>' if lo_open else '>='} {lo:g}, got {v!r}")


def validate(cfg: RunConfig) -> None:
    """One-line ValueError naming the field and what is allowed."""
    _int(cfg, "depth", 2, MAX_DEPTH)  # input and output layers at least
    _int(cfg, "width", 1, MAX_WIDTH)
    _float(cfg, "alpha", 0.0, True)
    _float(cfg, "weight_decay", 0.0, False)
    _float(cfg, "lr", 0.0, True)
    _int(cfg, "n_train", 1, MNIST_TRAIN)
    _int(cfg, "batch_size", 1, cfg.n_train)
    _int(cfg, "steps", 1)
    _int(cfg, "seed", 0, 2**31 - 1)
    if cfg.dtype not in DTYPES:
        raise ValueError(f"dtype: must be one of {DTYPES}, got {cfg.dtype!r}")
    dev = cfg.device
    if not isinstance(dev, str) or not (dev in DEVICES or (dev.startswith("cuda:") and dev[5:].isdigit())):
        raise ValueError(f"device: must be one of {DEVICES} or 'cuda:N', got {dev!r}")
    _int(cfg, "log_every", 0)
    _int(cfg, "rank_every", 0)
    _int(cfg, "probe_every", -1)
    _int(cfg, "probe_epochs", 1)
    _int(cfg, "checkpoint_every", 0)


def resolve_device(device: str) -> str:
    """'auto' -> 'cuda' when a GPU is visible, else 'cpu'; asking for CUDA without one is an error."""
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} asked for, but no CUDA GPU is available here; use 'cpu' or 'auto'")
    return device


def smoke() -> bool:
    """GROKKIT_SMOKE=1: chapters and tests shrink every config (see smoke_config)."""
    return os.environ.get("GROKKIT_SMOKE", "") not in ("", "0")


def smoke_config(cfg: RunConfig) -> RunConfig:
    """A tiny stand-in with the same depth, weight decay and seed: seconds on a CPU."""
    return cfg.replace(width=min(cfg.width, 32), n_train=min(cfg.n_train, 400), batch_size=min(cfg.batch_size, 100),
                       steps=min(cfg.steps, 300), log_every=0, rank_every=0, probe_every=0, probe_epochs=2,
                       checkpoint_every=0)


# ---- the paper's constants, read by the results layer (events, claims, report) --------------------------------
DEPTHS = (4, 8, 12)            # "d=4,8,12" [DG p3-7]
FULL_STEPS, FULL_WIDTH = 100_000, 400  # full scale: "10⁵ steps", "width (400)" [DG p2-1]
TUNNEL_THRESHOLD = 300         # "We consider the layer with output feature rank lower than 300 as a tunnel layer"
#                                [DG Fig 3/4 captions]
PAPER_TUNNEL = {5000: {4: 1, 8: 3, 12: 6}, 7000: {4: 1, 8: 5, 12: 6}}  # tunnel lengths [DG Fig 3, Fig 4 captions]
CONST_MSE = 0.09               # MSE of a constant predictor on one-hot targets of 10 balanced classes: 0.1·0.9² + 0.9·0.1²
